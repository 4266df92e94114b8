import { JobError } from '../errors/job-error.ts';
import { checkCallbackUrl, checkUrl, UrlForbiddenError, type HostLookup } from '../net/address-policy.ts';
import { NetworkReader, NetworkReadError, type NetworkReply } from '../net/network-reader.ts';

/**
 * User-supplied URLs: inputs fetched to a file and webhooks POSTed, both
 * under the public-only address policy, with every redirect hop checked
 * again and size and time capped.
 */
export interface FetchGuardOptions {
  /** hosts, addresses or CIDRs that may be reached although not public */
  allowlist: readonly string[];
  maxBytes: number;
  /** connect, headers and each pause in the body; the whole fetch gets four times this */
  timeoutMs?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
  lookup?: HostLookup;
}

export interface FetchedFile {
  bytes: number;
  contentType?: string;
  finalUrl: string;
}

function asJobError(error: unknown, doing: string): JobError {
  if (error instanceof JobError) return error;
  return new JobError('fetch_failed', `${doing}: ${(error as Error).message}`, true);
}

/** Streams a user-supplied URL to a file, enforcing the guard's rules. */
export async function fetchToFile(rawUrl: string, destPath: string, options: FetchGuardOptions): Promise<FetchedFile> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 3;
  const reader = new NetworkReader({ kind: 'public-only', allowlist: options.allowlist, connectMs: timeoutMs, lookup: options.lookup });
  const whole = AbortSignal.timeout(timeoutMs * 4);
  const signal = options.signal ? AbortSignal.any([options.signal, whole]) : whole;
  try {
    let url = checkUrl(rawUrl, options.allowlist);
    for (let hop = 0; ; hop++) {
      let reply: NetworkReply;
      try {
        reply = await reader.request(url, { headers: { accept: '*/*' }, signal, idleMs: timeoutMs });
      } catch (error) {
        throw asJobError(error, `could not fetch ${url.host}`);
      }
      const location = reply.header('location');
      if (reply.statusCode >= 300 && reply.statusCode < 400 && location) {
        reply.discard();
        if (hop >= maxRedirects) throw new UrlForbiddenError(`more than ${maxRedirects} redirects`);
        url = new URL(location, url);
        continue;
      }
      if (reply.statusCode !== 200) {
        reply.discard();
        throw new JobError('fetch_failed', `${url.host} answered HTTP ${reply.statusCode}`, reply.statusCode >= 500 || reply.statusCode === 429);
      }
      let bytes: number;
      try {
        bytes = await reply.saveTo(destPath, { maxBytes: options.maxBytes });
      } catch (error) {
        if (error instanceof NetworkReadError && error.kind === 'too_large') {
          const { declared, limit } = error.detail;
          throw new JobError(
            'media_too_large',
            declared === undefined ? `the file at ${url.host} is larger than ${limit} bytes` : `the file at ${url.host} is ${declared} bytes; the limit is ${limit}`,
          );
        }
        throw asJobError(error, `download from ${url.host} failed`);
      }
      return { bytes, contentType: reply.header('content-type'), finalUrl: url.toString() };
    }
  } finally {
    await reader.close();
  }
}

/** A webhook POST that got no answer: the receiver timed out or could not be reached. Worth retrying. */
export class PostFailedError extends Error {
  override name = 'PostFailedError';
  constructor(
    readonly kind: 'timeout' | 'network',
    message: string,
  ) {
    super(message);
  }
}

export interface PostGuardOptions {
  /** hosts, addresses or CIDRs that may be reached although not public (and over http) */
  allowlist: readonly string[];
  /** the whole exchange, connect to last body byte */
  timeoutMs?: number;
  /** how much of the reply body is read (and thrown away) before the socket is closed */
  maxResponseBytes?: number;
  signal?: AbortSignal;
  lookup?: HostLookup;
}

export interface PostReply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * POSTs to a URL this service calls back (a webhook) under the same rules as
 * the fetcher: the URL is checked as at job creation (`checkCallbackUrl`),
 * the host is resolved once and every address checked, and the connection
 * is pinned to it. Redirects are not followed: a 3xx is returned like any
 * other status. The reply body is read up to a small cap. Throws
 * UrlForbiddenError (do not retry) or PostFailedError (no answer in time, or
 * no connection: retry).
 */
export async function postGuarded(rawUrl: string, body: string, headers: Record<string, string>, options: PostGuardOptions): Promise<PostReply> {
  const url = checkCallbackUrl(rawUrl, options.allowlist);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const reader = new NetworkReader({ kind: 'public-only', allowlist: options.allowlist, connectMs: timeoutMs, lookup: options.lookup });
  try {
    let reply: NetworkReply;
    try {
      reply = await reader.request(url, { method: 'POST', body, headers, signal: options.signal, totalMs: timeoutMs, idleMs: timeoutMs });
    } catch (error) {
      if (error instanceof UrlForbiddenError) throw error;
      const { kind } = error as NetworkReadError;
      if (kind === 'timeout' || kind === 'deadline') throw new PostFailedError('timeout', `${url.host} did not answer within ${timeoutMs} ms`);
      throw new PostFailedError('network', `could not reach ${url.host}: ${(error as Error).message}`);
    }
    // the status is what counts; a body cut short (or too slow) does not change it
    await reply
      .readAll({ maxBytes, overflow: 'truncate' })
      .catch(() => undefined)
      .finally(() => reply.discard());
    return { statusCode: reply.statusCode, headers: reply.headers };
  } finally {
    await reader.close();
  }
}
