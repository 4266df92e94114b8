/**
 * The one error a backend call can end in. `code` is the backend's own code
 * (1001, 1002, 2001, 4001, 4002, 400, 402, 429, the HTTP status of a 5xx) or,
 * when the backend never answered with one, a transport code.
 */
export type TransportCode = 'network' | 'timeout' | 'bad_reply' | 'stream' | 'aborted';

export class BackendError extends Error {
  override name = 'BackendError';
  constructor(
    readonly code: number | TransportCode,
    message: string,
    readonly detail: { endpoint?: string; httpStatus?: number; retryAfterS?: number; cause?: unknown } = {},
  ) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
  }
}

/** How a job ended badly, as the job record and the API show it. */
export interface JobErrorInfo {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * What a tenant reads for `internal`: the cause (a path, a Redis or S3
 * message, a stack) stays in the worker's log.
 */
export const INTERNAL_ERROR_MESSAGE = "The worker hit an unexpected error (the details are in its log). Retry the job to continue from its last checkpoint.";

/** A failure with a stable code that the worker records on the job. */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }

  toInfo(): JobErrorInfo {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** An API error rendered as RFC 9457 problem+json. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}
