import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher, type FormData } from 'undici';
import { checkUrl, publicOnlyAgent, UrlForbiddenError, type HostLookup } from './address-policy.ts';

/**
 * The one way this service reads a body from the network: user URLs, render
 * downloads, the backend's JSON and event-stream replies, webhook receivers'
 * answers. A body is streamed with backpressure, to a file or into a capped
 * buffer. Reading slowly from a peer that ends the socket right after the
 * body crashed the process under undici 7 (`assert(!this.paused)`); undici 8
 * on Node 24 fixed it, and test/shared/peer-closes-after-body.test.ts reads
 * such a peer through every caller of this module.
 */

/** Which addresses the requests of a reader may reach. */
export type AddressPolicy =
  /** user-supplied URLs (inputs, webhooks): http(s) to public addresses, or to those on the allowlist */
  | { kind: 'public-only'; allowlist: readonly string[]; connectMs: number; lookup?: HostLookup }
  /**
   * the configured backend and the URLs it hands out (its CDN): no address
   * rule, since the embedded engine listens on loopback; the backend client's
   * own pooled connections
   */
  | { kind: 'configured-backend'; dispatcher: Dispatcher };

export interface ReadRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | FormData;
  /** the caller's signal: its abort ends the exchange as 'aborted' */
  signal?: AbortSignal;
  /** the whole exchange, body included ('deadline'); without it, only the caller's signal bounds it */
  totalMs?: number;
  /** no headers, or a pause in the body, this long fails the exchange ('timeout') */
  idleMs: number;
}

/**
 * - aborted: the caller's signal fired
 * - deadline: `totalMs` passed
 * - timeout: connect, headers or a pause in the body took longer than allowed
 * - network: anything else below HTTP
 * - too_large: the body is (or says it is) over the cap
 */
export type ReadFailureKind = 'aborted' | 'deadline' | 'timeout' | 'network' | 'too_large';

export class NetworkReadError extends Error {
  override name = 'NetworkReadError';
  constructor(
    readonly kind: ReadFailureKind,
    message: string,
    readonly detail: { cause?: unknown; limit?: number; declared?: number } = {},
  ) {
    super(message);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const FILE_SYSCALLS = new Set(['open', 'write', 'close', 'rename', 'fsync', 'unlink']);

/** A failure of the local disk (full, read-only…), which no retry of the download fixes. */
export function isLocalFileError(error: unknown): boolean {
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return typeof syscall === 'string' && FILE_SYSCALLS.has(syscall);
}

function* causes(error: unknown): Generator<unknown> {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) yield e;
}

function hasTimeoutCode(error: unknown): boolean {
  for (const e of causes(error)) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code))) return true;
  }
  return false;
}

/** What a failed connect (refused, unreachable, no such host, timed out) reports: the request never left this process. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const CONNECT_SYSCALLS = new Set(['connect', 'getaddrinfo']);

/**
 * True when an exchange failed before a connection was made, so the peer
 * never saw the request: safe to send to another address, whatever the
 * method. A connection lost after the request went out is not one.
 */
export function isConnectFailure(error: unknown): boolean {
  for (const e of causes(error instanceof NetworkReadError ? error.detail.cause : error)) {
    const { code, syscall } = e as { code?: unknown; syscall?: unknown };
    if ((typeof code === 'string' && CONNECT_CODES.has(code)) || (typeof syscall === 'string' && CONNECT_SYSCALLS.has(syscall))) return true;
  }
  return false;
}

interface Signals {
  caller?: AbortSignal;
  deadline?: AbortSignal;
}

/**
 * What went wrong, as a NetworkReadError; a refused address stays the
 * UrlForbiddenError it is. Which signal fired decides first, because undici
 * reports both as an abort.
 */
function readFailure(error: unknown, signals: Signals): NetworkReadError | UrlForbiddenError {
  if (error instanceof NetworkReadError) return error;
  for (const e of causes(error)) if (e instanceof UrlForbiddenError) return e;
  const message = error instanceof Error ? error.message : String(error);
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  let kind: ReadFailureKind = 'network';
  if (signals.caller?.aborted) kind = 'aborted';
  else if (signals.deadline?.aborted) kind = 'deadline';
  else if (hasTimeoutCode(error)) kind = 'timeout';
  else if (name === 'AbortError' || code === 'UND_ERR_ABORTED') kind = 'aborted';
  return new NetworkReadError(kind, message, { cause: error });
}

function tooLarge(limit: number, declared?: number): NetworkReadError {
  const message = declared === undefined ? `larger than ${limit} bytes` : `${declared} bytes; the limit is ${limit}`;
  return new NetworkReadError('too_large', message, { limit, declared });
}

/** Passes chunks on until more than `limit` bytes went through. */
function byteCap(limit: number, counted: (bytes: number) => void): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      counted(bytes);
      if (bytes > limit) return done(tooLarge(limit));
      done(null, chunk);
    },
  });
}

/** A reply whose status and headers are in; its body is read at most once, by one of the methods. */
export class NetworkReply {
  constructor(
    private readonly response: Dispatcher.ResponseData,
    private readonly signals: Signals,
  ) {}

  get statusCode(): number {
    return this.response.statusCode;
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers;
  }

  /** The body, for a caller that parses it as it streams (an event stream). */
  get body(): Readable & AsyncIterable<Buffer> {
    return this.response.body as Readable & AsyncIterable<Buffer>;
  }

  /** The first value of a header. */
  header(name: string): string | undefined {
    const value = this.response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** What an error met while reading the body stands for. */
  failure(error: unknown): NetworkReadError | UrlForbiddenError {
    return readFailure(error, this.signals);
  }

  /** Drops the rest of the body (and its connection, if unfinished). */
  discard(): void {
    // undici reports destroying an unfinished body as an error event; nobody needs it
    this.response.body.on('error', () => undefined);
    this.response.body.destroy();
  }

  /**
   * Streams the body to `destPath`, never holding more than a chunk in
   * memory, and resolves with its size. Over `maxBytes` (declared or
   * streamed) fails 'too_large'. Nothing is left behind on failure; with
   * `viaPartFile` the bytes go to `<destPath>.part`, renamed when complete,
   * so `destPath` only ever holds a whole file. A local disk failure is
   * thrown as it is (see isLocalFileError).
   */
  async saveTo(destPath: string, options: { maxBytes: number; viaPartFile?: boolean }): Promise<number> {
    const declared = Number(this.header('content-length') ?? 0);
    if (declared > options.maxBytes) {
      this.discard();
      throw tooLarge(options.maxBytes, declared);
    }
    const target = options.viaPartFile ? `${destPath}.part` : destPath;
    let bytes = 0;
    try {
      await pipeline(this.body, byteCap(options.maxBytes, (n) => (bytes = n)), createWriteStream(target));
      if (options.viaPartFile) await rename(target, destPath);
    } catch (error) {
      await rm(target, { force: true });
      throw isLocalFileError(error) ? error : this.failure(error);
    }
    return bytes;
  }

  /**
   * The body in memory. Over `maxBytes`: 'fail' (the default) throws
   * 'too_large'; 'truncate' keeps the first `maxBytes` and drops the rest.
   */
  async readAll(options: { maxBytes: number; overflow?: 'fail' | 'truncate' }): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of this.body) {
        const room = options.maxBytes - size;
        if (chunk.length > room) {
          this.discard();
          if (options.overflow !== 'truncate') throw tooLarge(options.maxBytes);
          chunks.push(chunk.subarray(0, room));
          break;
        }
        chunks.push(chunk);
        size += chunk.length;
      }
    } catch (error) {
      throw this.failure(error);
    }
    return Buffer.concat(chunks);
  }
}

/** Sends requests under one address policy. */
export class NetworkReader {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly policy: AddressPolicy) {
    this.ownsDispatcher = policy.kind === 'public-only';
    this.dispatcher =
      policy.kind === 'public-only' ? publicOnlyAgent(policy.allowlist, policy.connectMs, policy.lookup) : policy.dispatcher;
  }

  /** Resolves once the status and headers are in. Redirects are the caller's to follow (or not). */
  async request(url: URL, spec: ReadRequest): Promise<NetworkReply> {
    // an IP literal never reaches the agent's lookup, so it is checked here
    if (this.policy.kind === 'public-only') checkUrl(url.href, this.policy.allowlist);
    const deadline = spec.totalMs === undefined ? undefined : AbortSignal.timeout(spec.totalMs);
    const signals: Signals = { caller: spec.signal, deadline };
    const both = [spec.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
    try {
      const response = await request(url, {
        dispatcher: this.dispatcher,
        method: spec.method ?? 'GET',
        headers: spec.headers,
        body: spec.body,
        signal: both.length > 1 ? AbortSignal.any(both) : both[0],
        headersTimeout: spec.idleMs,
        bodyTimeout: spec.idleMs,
      });
      return new NetworkReply(response, signals);
    } catch (error) {
      throw readFailure(error, signals);
    }
  }

  /** Closes the connections this reader made (a public-only policy's); the backend's pool belongs to its client. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
  }
}
