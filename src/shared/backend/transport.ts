import type { Readable } from 'node:stream';
import { request, type Dispatcher, type FormData } from 'undici';
import { BackendError, type TransportCode } from '../errors.ts';
import type { BackendEndpoint } from './endpoints.ts';
import { parseJson } from './json-reading.ts';
import { badReply, replyError } from './reply-error.ts';

export interface CallSpec {
  endpoint: BackendEndpoint;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string | FormData;
  /** the caller's signal: its abort ends the call as 'aborted' */
  signal?: AbortSignal;
  /** the whole call, body included */
  totalMs: number;
  /** no bytes (or no headers) for this long fails the call */
  idleMs: number;
}

export interface OpenReply {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Readable & AsyncIterable<Buffer>;
  /** maps whatever went wrong while reading the body; `fallback` for plain I/O errors */
  failure(error: unknown, fallback: TransportCode): BackendError;
  /** drops the rest of the body (and its connection, if unfinished) */
  discard(): void;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const MAX_JSON_BYTES = 32 * 1024 * 1024;

interface FailureContext {
  endpoint: BackendEndpoint;
  callerSignal?: AbortSignal;
  deadline: AbortSignal;
  totalMs: number;
  /** known once the reply's headers are in */
  httpStatus?: number;
}

/**
 * One transport code for anything that went wrong below HTTP. Which signal
 * fired decides first, because undici reports both as an abort.
 */
function transportFailure(error: unknown, fallback: TransportCode, ctx: FailureContext): BackendError {
  if (error instanceof BackendError) return error;
  const { endpoint } = ctx;
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: unknown }).name;
  const fail = (transportCode: TransportCode, message: string) =>
    new BackendError(transportCode, `${endpoint}: ${message}`, { endpoint, httpStatus: ctx.httpStatus, cause: error });
  if (ctx.callerSignal?.aborted) return fail('aborted', 'aborted');
  if (ctx.deadline.aborted) return fail('timeout', `no complete reply within ${ctx.totalMs} ms`);
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return fail('timeout', `timed out: ${(error as Error).message}`);
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED') return fail('aborted', 'aborted');
  return fail(fallback, error instanceof Error ? error.message : String(error));
}

/** Sends a request and resolves once the status and headers are in; the body is the caller's to read. */
export async function openCall(dispatcher: Dispatcher, spec: CallSpec): Promise<OpenReply> {
  const deadline = AbortSignal.timeout(spec.totalMs);
  const signal = spec.signal ? AbortSignal.any([spec.signal, deadline]) : deadline;
  const ctx: FailureContext = { endpoint: spec.endpoint, callerSignal: spec.signal, deadline, totalMs: spec.totalMs };
  try {
    const reply = await request(spec.url, {
      dispatcher,
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      signal,
      headersTimeout: spec.idleMs,
      bodyTimeout: spec.idleMs,
    });
    ctx.httpStatus = reply.statusCode;
    return {
      statusCode: reply.statusCode,
      headers: reply.headers,
      body: reply.body as OpenReply['body'],
      failure: (error, fallback) => transportFailure(error, fallback, ctx),
      discard: () => {
        // undici reports destroying an unfinished body as an error event; nobody needs it
        reply.body.on('error', () => undefined);
        reply.body.destroy();
      },
    };
  } catch (error) {
    throw transportFailure(error, 'network', ctx);
  }
}

/** The body as text, refusing more than `maxBytes`. */
export async function readText(reply: OpenReply, endpoint: BackendEndpoint, maxBytes = MAX_JSON_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of reply.body) {
      size += chunk.length;
      if (size > maxBytes) {
        reply.discard();
        throw badReply(endpoint, `reply is larger than ${maxBytes} bytes`, reply.statusCode);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw reply.failure(error, 'network');
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Throws the error an already-read reply stands for, if any. */
export function throwIfError(reply: OpenReply, endpoint: BackendEndpoint, text: string): void {
  const error = replyError({ endpoint, httpStatus: reply.statusCode, retryAfter: reply.headers['retry-after'], text });
  if (error) throw error;
}

/**
 * A JSON call: the parsed body of a successful reply (undefined when empty),
 * or the BackendError the reply or the transport stands for.
 */
export async function callJson(dispatcher: Dispatcher, spec: CallSpec): Promise<unknown> {
  const reply = await openCall(dispatcher, spec);
  const text = await readText(reply, spec.endpoint);
  throwIfError(reply, spec.endpoint, text);
  if (text.trim() === '') return undefined;
  const body = parseJson(text);
  if (body === undefined) throw badReply(spec.endpoint, 'reply is not JSON', reply.statusCode);
  return body;
}
