import { BackendError } from '../shared/errors/backend-error.ts';
import { INTERNAL_ERROR_MESSAGE, type FixedRetryCode } from '../shared/errors/error-codes.ts';
import { JobError } from '../shared/errors/job-error.ts';

/**
 * What the worker does about a failed attempt:
 * - `fail`: terminal; the job fails now with the error's code.
 * - `retry`: back to BullMQ's exponential backoff (with jitter).
 * - `back-off`: the backend is rate limiting this deployment; the whole queue
 *   waits `delayMs` (its Retry-After, capped; BullMQ's rate limiter) and the
 *   job goes back in line. Each back-off spends one of the job's attempts.
 * - `new-session`: the backend lost the session (1002); session-scoped
 *   checkpoints are dropped and the job is redone from upload.
 */
export type Outcome =
  | { action: 'fail'; error: JobError }
  | { action: 'retry'; error: JobError }
  | { action: 'back-off'; error: JobError; delayMs: number }
  | { action: 'new-session'; error: JobError };

export const DEFAULT_RETRY_AFTER_S = 30;

export interface ClassifyContext {
  /** the anonymous user the token belongs to, for the registration link of 2001 */
  anonymousUserId?: string;
  registrationUrl: string;
  /** BACKEND_RETRY_AFTER_MAX_S: a backend's Retry-After is honoured up to this */
  retryAfterMaxS: number;
}

/** What went wrong at the backend, in words that carry no address or text of its own. */
function backendFailure(error: BackendError): string {
  switch (error.code) {
    case 'network':
      return 'could not be reached';
    case 'timeout':
      return 'did not answer in time';
    case 'bad_reply':
      return 'sent a reply that could not be read';
    case 'stream':
      return 'broke off the instruction stream';
    default:
      return error.detail.httpStatus ? `answered HTTP ${error.detail.httpStatus}` : `answered code ${error.code}`;
  }
}

/**
 * The one place errors become job outcomes. A tenant reads each code's own
 * message; the error itself, with whatever internal text it carries, is
 * logged by the worker (render-worker.ts), never stored on the job.
 */
export function classifyError(error: unknown, context: ClassifyContext): Outcome {
  if (error instanceof JobError) return { action: error.retryable ? 'retry' : 'fail', error };
  if (!(error instanceof BackendError)) {
    return { action: 'retry', error: new JobError('internal', INTERNAL_ERROR_MESSAGE) };
  }
  const where = error.detail.endpoint ? ` (${error.detail.endpoint})` : '';
  const fail = (code: FixedRetryCode, message: string): Outcome => ({ action: 'fail', error: new JobError(code, message) });
  switch (error.code) {
    case 2001: {
      const link = context.anonymousUserId ? ` Register to keep going: ${context.registrationUrl}?bind=${encodeURIComponent(context.anonymousUserId)}` : '';
      return fail('backend_out_of_credits', `The render backend has no credits left for this deployment's token${where}.${link || ' Top up the account behind NEMO_TOKEN.'}`);
    }
    case 402:
      return fail('backend_plan_blocked', `The backend's plan does not allow this export${where}. This is a subscription limit, not a credits problem: register or upgrade the plan.`);
    case 4001:
      return fail('unsupported_media', `The backend does not accept this file type${where}. Use jpg, png, webp, gif, mp4, mov, webm, mp3, wav, m4a or aac.`);
    case 4002:
      return fail('media_too_large', `A file is larger than the backend accepts${where}. Compress or trim it.`);
    case 1002:
      return { action: 'new-session', error: new JobError('backend_session_lost', `The backend lost the session${where}; starting a new one.`) };
    case 429:
      return {
        action: 'back-off',
        error: new JobError('backend_rate_limited', `The backend is rate limiting requests${where}.`),
        delayMs: Math.min(error.detail.retryAfterS ?? DEFAULT_RETRY_AFTER_S, context.retryAfterMaxS) * 1000,
      };
    case 'aborted':
      return { action: 'retry', error: new JobError('interrupted', 'The attempt was interrupted.') };
    default:
      return { action: 'retry', error: new JobError('backend_unavailable', `The render backend ${backendFailure(error)}${where}.`) };
  }
}
