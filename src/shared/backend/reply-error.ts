import { BackendError } from '../errors/backend-error.ts';
import type { BackendEndpoint } from './endpoints.ts';
import { asRecord, parseJson, pick, pickNumber, pickString, type JsonRecord } from './json-reading.ts';

/** What an HTTP reply looked like, as far as deciding whether it is an error. */
export interface ReplyFacts {
  endpoint: BackendEndpoint;
  httpStatus: number;
  /** the raw `Retry-After` header */
  retryAfter?: string | string[];
  text: string;
}

const DEFAULT_RETRY_AFTER_S = 30;

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The human message of an error body, whatever its envelope. */
function messageOf(body: JsonRecord | undefined): string | undefined {
  const value = pick(body, 'message', 'msg', 'error', 'detail', 'error_message', 'errorMessage');
  if (typeof value === 'string') return value || undefined;
  const nested = pickString(asRecord(value), 'message', 'msg');
  if (nested) return nested;
  return value === undefined ? undefined : JSON.stringify(value).slice(0, 300);
}

/**
 * The code of an HTTP error that came without an envelope code. A 404 naming
 * the session is the ADK server's "Session not found" (1002); a bare 401 is a
 * bad token, which callers handle as 1001 (get a new token).
 */
function codeForStatus(status: number, message: string | undefined): number {
  if (status === 404 && message && /session/i.test(message)) return 1002;
  if (status === 401) return 1001;
  return status;
}

/**
 * The error a reply stands for, or undefined when it is a success.
 * `{"code":N}` with N≠0 is an error whatever the HTTP status; 5xx keeps the
 * HTTP status as code so it stays classified as retryable; the render proxy's
 * `{"success":false}` is a rejection (400 when it came with HTTP 200).
 */
export function replyError(facts: ReplyFacts, now = Date.now()): BackendError | undefined {
  const { endpoint, httpStatus } = facts;
  const body = asRecord(parseJson(facts.text));
  const message = messageOf(body);
  const envelopeCode = pickNumber(body, 'code');

  let code: number | undefined;
  if (httpStatus >= 500) code = httpStatus;
  else if (envelopeCode !== undefined && envelopeCode !== 0) code = envelopeCode;
  else if (body?.success === false) code = httpStatus >= 400 ? codeForStatus(httpStatus, message) : 400;
  else if (httpStatus >= 400) code = codeForStatus(httpStatus, message);
  else if (httpStatus < 200 || httpStatus >= 300) {
    return new BackendError('bad_reply', `${endpoint}: unexpected HTTP ${httpStatus}`, { endpoint, httpStatus });
  }
  if (code === undefined) return undefined;

  const retryAfterS =
    retryAfterSeconds(facts.retryAfter, now) ?? (code === 429 || httpStatus === 429 ? DEFAULT_RETRY_AFTER_S : undefined);
  return new BackendError(code, `${endpoint}: ${message ?? `HTTP ${httpStatus}`}`, {
    endpoint,
    httpStatus,
    ...(retryAfterS === undefined ? {} : { retryAfterS }),
  });
}

export function badReply(endpoint: BackendEndpoint, why: string, httpStatus?: number): BackendError {
  return new BackendError('bad_reply', `${endpoint}: ${why}`, { endpoint, httpStatus });
}
