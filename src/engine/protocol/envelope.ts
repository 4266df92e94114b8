import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Dialect } from '../options.ts';

/**
 * The engine's replies. Most endpoints answer `{"code":0,"message":"ok","data":…}`
 * and carry business errors as a non-zero `code`; the render proxy answers
 * `{"success":true,"data":…}` / `{"success":false,"error":"…"}`.
 */

/** The HTTP status that goes with a business code when the dialect sends one. */
export const BUSINESS_ERROR_HTTP: Readonly<Record<number, number>> = {
  1001: 401,
  1002: 404,
  2001: 402,
  4001: 415,
  4002: 413,
  400: 400,
  402: 402,
  429: 429,
};

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    /** a business code from the protocol's table, or an HTTP status for the render proxy */
    readonly code: number,
    message: string,
    readonly options: { httpStatus?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  get httpStatus(): number {
    return this.options.httpStatus ?? BUSINESS_ERROR_HTTP[this.code] ?? (this.code >= 400 && this.code < 600 ? this.code : 400);
  }
}

export const tokenInvalid = () => new EngineError(1001, 'token invalid or expired');
export const sessionNotFound = (sessionId: string) => new EngineError(1002, `session ${sessionId} not found`);

export function okBody<T>(data: T) {
  return { code: 0, message: 'ok', data };
}

export function renderOkBody<T>(data: T) {
  return { success: true as const, data };
}

/** An error Fastify raised itself (bad JSON, body too large, …) keeps its status; anything else is a 500. */
function asEngineError(error: FastifyError | EngineError, request: FastifyRequest): EngineError {
  if (error instanceof EngineError) return error;
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) return new EngineError(status, error.message, { httpStatus: status });
  request.log.error({ err: error }, 'unexpected engine error');
  return new EngineError(500, 'internal error', { httpStatus: 500 });
}

export function businessErrorHandler(dialect: Dialect) {
  return (error: FastifyError | EngineError, request: FastifyRequest, reply: FastifyReply) => {
    const e = asEngineError(error, request);
    const status = dialect.businessErrorHttp === 'status' || e.httpStatus >= 500 ? e.httpStatus : 200;
    return reply
      .code(status)
      .headers(e.options.headers ?? {})
      .send({ code: e.code, message: e.message, data: null });
  };
}

export function renderErrorHandler(error: FastifyError | EngineError, request: FastifyRequest, reply: FastifyReply) {
  const e = asEngineError(error, request);
  return reply
    .code(e.httpStatus)
    .headers(e.options.headers ?? {})
    .send({ success: false, error: e.message, code: e.code });
}
