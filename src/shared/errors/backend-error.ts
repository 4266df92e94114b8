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
