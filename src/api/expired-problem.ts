import { ProblemError } from '../shared/errors.ts';

/** 410 for what needs the files of a job whose files retention deleted (RETENTION_DAYS after it finished). */
export function expiredProblem(jobId: string, expiredAt: string): ProblemError {
  return new ProblemError(410, 'expired', 'Files deleted', `The files of job ${jobId} were deleted at ${expiredAt}, when its retention period ended.`);
}
