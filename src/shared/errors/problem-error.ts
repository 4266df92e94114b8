import { problemStatus, type ProblemCode } from './error-codes.ts';

/** An API error rendered as RFC 9457 problem+json; its HTTP status is its code's (error-codes.ts). */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  /** sent as Retry-After (seconds) */
  retryAfterS?: number;
  constructor(
    readonly code: ProblemCode,
    readonly title: string,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.status = problemStatus(code);
  }
}
