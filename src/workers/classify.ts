import { BackendError, JobError } from '../shared/errors.ts';

/**
 * The one place backend errors become job outcomes: a terminal JobError with
 * a stable code, or a retryable one that goes back to BullMQ's backoff.
 */
export function classifyError(error: unknown): JobError {
  if (error instanceof JobError) return error;
  if (!(error instanceof BackendError)) {
    return new JobError('internal', (error as Error)?.message ?? String(error), true);
  }
  const where = error.detail.endpoint ? ` (${error.detail.endpoint})` : '';
  switch (error.code) {
    case 2001:
      return new JobError('backend_out_of_credits', `The render backend has no credits left${where}. Register or top up the account behind NEMO_TOKEN.`);
    case 402:
      return new JobError('backend_plan_blocked', `The backend's plan does not allow export${where}: this is a subscription limit, not a credits problem.`);
    case 4001:
      return new JobError('unsupported_media', `The backend does not accept this file type${where}. Use jpg, png, webp, gif, mp4, mov or webm.`);
    case 4002:
      return new JobError('media_too_large', `A file is larger than the backend accepts${where}. Compress or trim it.`);
    case 'aborted':
      return new JobError('canceled', 'The job was canceled.');
    default:
      return new JobError('backend_unavailable', `The render backend failed${where}: ${error.message}`, true);
  }
}
