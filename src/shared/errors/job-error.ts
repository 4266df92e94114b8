import { jobRetryable, type FixedRetryCode, type JobErrorCode, type PerCallRetryCode } from './error-codes.ts';

/** How a job ended badly, as the job record and the API show it. */
export interface JobErrorInfo {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * A failure with a stable code that the worker records on the job. Whether it
 * is retryable is its code's (error-codes.ts); only a code the table marks
 * `perCall` takes the flag from the place that raises it.
 */
export class JobError extends Error {
  override name = 'JobError';
  readonly retryable: boolean;
  constructor(code: FixedRetryCode, message: string);
  constructor(code: PerCallRetryCode, message: string, retryable: boolean);
  constructor(
    readonly code: JobErrorCode,
    message: string,
    retryable?: boolean,
  ) {
    super(message);
    this.retryable = retryable ?? (jobRetryable(code) as boolean);
  }

  toInfo(): JobErrorInfo {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}
