import type { FastifyReply } from 'fastify';
import { ProblemError } from '../../shared/errors.ts';

/** RFC 9457 problems of the API: the fields every one has, how it is sent, and the ones built in more than one place. */
export interface ProblemFields {
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** 410 for what needs the files of a job whose files retention deleted (RETENTION_DAYS after it finished). */
export function expiredProblem(jobId: string, expiredAt: string): ProblemError {
  return new ProblemError(410, 'expired', 'Files deleted', `The files of job ${jobId} were deleted at ${expiredAt}, when its retention period ended.`);
}

/** The `type` URI of a problem: its code's entry in docs/errors.md. */
export function problemType(code: string): string {
  return `https://github.com/i2v-dev/i2v/blob/main/docs/errors.md#${code}`;
}

export function sendProblem(reply: FastifyReply, problem: ProblemFields & Record<string, unknown>): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ type: problemType(problem.code), instance: reply.request.url, ...problem });
}

const MALFORMED_MULTIPART = /unexpected end of multipart data|Boundary not found|Boundary required|The needle/i;

/** A multipart body that cannot be parsed: the client's fault, not the server's. */
export function malformedMultipart(error: Error): ProblemError | undefined {
  if (!MALFORMED_MULTIPART.test(error.message ?? '')) return undefined;
  return new ProblemError(400, 'bad_request', 'Bad request', `The multipart body is malformed: ${error.message}.`);
}
