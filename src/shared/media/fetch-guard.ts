import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import dns from 'node:dns';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { Agent, request, type Dispatcher } from 'undici';
import { JobError } from '../errors.ts';

/**
 * The one way user-supplied URLs are fetched. The address is checked when the
 * socket connects (DNS resolved once, the connection pinned to the checked
 * address), every redirect hop is checked again, and size and time are capped.
 */
export class UrlForbiddenError extends JobError {
  constructor(reason: string) {
    super('url_forbidden', reason, false);
  }
}

/** Resolves a host name to every address it has (the system resolver unless a test gives its own). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: HostLookup = (hostname) => dns.promises.lookup(hostname, { all: true });

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

interface Allowlist {
  hosts: Set<string>;
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

function parseAllowlist(entries: readonly string[]): Allowlist {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    if (entry.includes('/') && ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.process(entry);
      ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry.toLowerCase());
  }
  return { hosts, ranges };
}

/** IANA's global unicast block: ipaddr.js calls anything unclassified "unicast", 4000::/2 included. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** ipaddr.js's name for the address's range; "unicast" only for a public address. */
function rangeOf(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  const range = addr.range();
  if (range === 'unicast' && addr.kind() === 'ipv6' && !addr.match(IPV6_GLOBAL_UNICAST)) return 'reserved';
  return range;
}

/** Why an address may not be reached, or undefined when it may. */
function addressRefusal(address: string, hostname: string, allow: Allowlist): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  const addr = ipaddr.process(address);
  const range = rangeOf(addr);
  if (range === 'unicast') return undefined;
  if (allow.hosts.has(hostname.toLowerCase())) return undefined;
  if (allow.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits))) return undefined;
  return `${hostname} resolves to ${address}, a ${range} address that is not reachable from this service (add it to URL_FETCH_ALLOWLIST to allow it)`;
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/** Checks a URL's scheme and, when its host is an IP literal, its address. */
export function checkUrl(raw: string, allowlist: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlForbiddenError(`"${raw.slice(0, 200)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlForbiddenError(`${url.protocol} URLs are not fetched; use http or https`);
  }
  if (url.username || url.password) throw new UrlForbiddenError('URLs with credentials are not fetched');
  const host = stripBrackets(url.hostname);
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, host, parseAllowlist(allowlist));
    if (refusal) throw new UrlForbiddenError(refusal);
  }
  return url;
}

/** True when the URL's host is on the allowlist (by name, address or range). */
function isAllowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = stripBrackets(url.hostname).toLowerCase();
  const allow = parseAllowlist(allowlist);
  if (allow.hosts.has(host)) return true;
  if (!ipaddr.isValid(host)) return false;
  const addr = ipaddr.process(host);
  return allow.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits));
}

/**
 * A URL this service will call back (a webhook): https, or http only for an
 * allow-listed host; never a private, loopback or metadata address (checked
 * again after DNS resolution when it is called).
 */
export function checkCallbackUrl(raw: string, allowlist: readonly string[]): URL {
  const url = checkUrl(raw, allowlist);
  const allowed = isAllowlisted(url, allowlist);
  if (url.protocol !== 'https:' && !allowed) throw new UrlForbiddenError('webhook URLs must use https (http only for hosts in URL_FETCH_ALLOWLIST)');
  const host = url.hostname.toLowerCase();
  if ((host === 'localhost' || host.endsWith('.localhost')) && !allowed) throw new UrlForbiddenError(`${host} is not reachable from this service`);
  return url;
}

/**
 * An agent whose sockets connect only to addresses checked here: the host is
 * resolved once per connection, every address it has must pass, and the
 * socket is handed the first of them, so no second resolution can swap in
 * another (DNS rebinding).
 */
function guardedAgent(allow: Allowlist, timeoutMs: number, resolve: HostLookup = systemLookup): Agent {
  const lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname).then(
      (addresses) => {
        for (const entry of addresses) {
          const refusal = addressRefusal(entry.address, hostname, allow);
          // handed over as it is: its code (url_forbidden) is what the job records
          if (refusal) return callback(new UrlForbiddenError(refusal), '', 0);
        }
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, [first]);
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
  return new Agent({ connect: { lookup: lookup as never, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

function unwrapForbidden(error: unknown): UrlForbiddenError | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof UrlForbiddenError) return e;
  }
  return undefined;
}

/** Drops a body we will not read; undici reports the destroy as an error event, which is expected here. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

export interface FetchedFile {
  bytes: number;
  contentType?: string;
  finalUrl: string;
}

/** Streams a user-supplied URL to a file, enforcing the guard's rules. */
export async function fetchToFile(rawUrl: string, destPath: string, options: FetchGuardOptions): Promise<FetchedFile> {
  const allow = parseAllowlist(options.allowlist);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 3;
  const agent = guardedAgent(allow, timeoutMs, options.lookup);
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs * 4)]) : AbortSignal.timeout(timeoutMs * 4);
  try {
    let url = checkUrl(rawUrl, options.allowlist);
    for (let hop = 0; ; hop++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, { dispatcher: agent, signal, maxRedirections: 0, headers: { accept: '*/*' } } as never);
      } catch (error) {
        throw unwrapForbidden(error) ?? new JobError('fetch_failed', `could not fetch ${url.host}: ${(error as Error).message}`, true);
      }
      if (response.statusCode >= 300 && response.statusCode < 400 && response.headers.location) {
        discard(response.body);
        if (hop >= maxRedirects) throw new UrlForbiddenError(`more than ${maxRedirects} redirects`);
        url = checkUrl(new URL(String(response.headers.location), url).toString(), options.allowlist);
        continue;
      }
      if (response.statusCode !== 200) {
        discard(response.body);
        throw new JobError('fetch_failed', `${url.host} answered HTTP ${response.statusCode}`, response.statusCode >= 500 || response.statusCode === 429);
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > options.maxBytes) {
        discard(response.body);
        throw new JobError('media_too_large', `the file at ${url.host} is ${declared} bytes; the limit is ${options.maxBytes}`);
      }
      let bytes = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (bytes > options.maxBytes) return done(new JobError('media_too_large', `the file at ${url.host} is larger than ${options.maxBytes} bytes`));
          done(null, chunk);
        },
      });
      try {
        await pipeline(response.body, cap, createWriteStream(destPath));
      } catch (error) {
        await rm(destPath, { force: true });
        if (error instanceof JobError) throw error;
        throw new JobError('fetch_failed', `download from ${url.host} failed: ${(error as Error).message}`, true);
      }
      const type = response.headers['content-type'];
      return { bytes, contentType: typeof type === 'string' ? type : undefined, finalUrl: url.toString() };
    }
  } finally {
    await agent.close();
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

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const { name, code } = e as { name?: string; code?: string };
    if (name === 'TimeoutError' || (code && TIMEOUT_CODES.has(code))) return true;
  }
  return false;
}

/**
 * POSTs to a URL this service calls back (a webhook) under the same rules as
 * the fetcher: the URL is checked as at job creation (`checkCallbackUrl`),
 * the host is resolved once and every address checked, and the connection
 * is pinned to it. Redirects are not followed: a 3xx is returned like any
 * other status. The reply body is drained up to a small cap. Throws
 * UrlForbiddenError (do not retry) or PostFailedError (no answer in time, or
 * no connection: retry).
 */
export async function postGuarded(rawUrl: string, body: string, headers: Record<string, string>, options: PostGuardOptions): Promise<PostReply> {
  const url = checkCallbackUrl(rawUrl, options.allowlist);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const agent = guardedAgent(parseAllowlist(options.allowlist), timeoutMs, options.lookup);
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method: 'POST', body, headers, dispatcher: agent, signal, maxRedirections: 0 } as never);
    } catch (error) {
      const forbidden = unwrapForbidden(error);
      if (forbidden) throw forbidden;
      if (isTimeout(error) || deadline.aborted) throw new PostFailedError('timeout', `${url.host} did not answer within ${timeoutMs} ms`);
      throw new PostFailedError('network', `could not reach ${url.host}: ${(error as Error).message}`);
    }
    let read = 0;
    try {
      for await (const chunk of response.body) {
        read += (chunk as Buffer).length;
        if (read >= maxBytes) break;
      }
    } catch {
      // the status is what counts; a body cut short (or too slow) does not change it
    } finally {
      discard(response.body);
    }
    return { statusCode: response.statusCode, headers: response.headers };
  } finally {
    await agent.close().catch(() => {});
  }
}
