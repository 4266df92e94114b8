import type { FormData } from 'undici';
import { BackendError, type TransportCode } from '../errors/backend-error.ts';
import { NetworkReadError, type NetworkReader, type NetworkReply } from '../net/network-reader.ts';
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
  headers: NetworkReply['headers'];
  /** the reply as the network reader has it: its body, header(), discard(), saveTo() */
  network: NetworkReply;
  /** maps whatever went wrong while reading the body; `fallback` for plain I/O errors */
  failure(error: unknown, fallback: TransportCode): BackendError;
}

const MAX_JSON_BYTES = 32 * 1024 * 1024;

/** One transport code for anything that went wrong below HTTP. */
function transportFailure(error: unknown, fallback: TransportCode, spec: CallSpec, httpStatus?: number): BackendError {
  if (error instanceof BackendError) return error;
  const { endpoint } = spec;
  const read = error instanceof NetworkReadError ? error : undefined;
  const cause = read ? read.detail.cause : error;
  const fail = (transportCode: TransportCode, message: string) =>
    new BackendError(transportCode, `${endpoint}: ${message}`, { endpoint, httpStatus, cause });
  const message = error instanceof Error ? error.message : String(error);
  switch (read?.kind) {
    case 'aborted':
      return fail('aborted', 'aborted');
    case 'deadline':
      return fail('timeout', `no complete reply within ${spec.totalMs} ms`);
    case 'timeout':
      return fail('timeout', `timed out: ${message}`);
    default:
      return fail(fallback, message);
  }
}

/** Sends a request and resolves once the status and headers are in; the body is the caller's to read. */
export async function openCall(reader: NetworkReader, spec: CallSpec): Promise<OpenReply> {
  let network: NetworkReply;
  try {
    network = await reader.request(spec.url, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
      signal: spec.signal,
      totalMs: spec.totalMs,
      idleMs: spec.idleMs,
    });
  } catch (error) {
    throw transportFailure(error, 'network', spec);
  }
  return {
    statusCode: network.statusCode,
    headers: network.headers,
    network,
    failure: (error, fallback) => transportFailure(error instanceof BackendError ? error : network.failure(error), fallback, spec, network.statusCode),
  };
}

/** The body as text, refusing more than `maxBytes`. */
export async function readText(reply: OpenReply, endpoint: BackendEndpoint, maxBytes = MAX_JSON_BYTES): Promise<string> {
  try {
    return (await reply.network.readAll({ maxBytes })).toString('utf8');
  } catch (error) {
    if (error instanceof NetworkReadError && error.kind === 'too_large') {
      throw badReply(endpoint, `reply is larger than ${maxBytes} bytes`, reply.statusCode);
    }
    throw reply.failure(error, 'network');
  }
}

/** Throws the error an already-read reply stands for, if any. */
export function throwIfError(reply: OpenReply, endpoint: BackendEndpoint, text: string): void {
  const error = replyError({ endpoint, httpStatus: reply.statusCode, retryAfter: reply.headers['retry-after'], text });
  if (error) throw error;
}

/** A call's reply text, once it is known not to be an error (else the BackendError it stands for). */
export async function callText(reader: NetworkReader, spec: CallSpec): Promise<string> {
  const reply = await openCall(reader, spec);
  const text = await readText(reply, spec.endpoint);
  throwIfError(reply, spec.endpoint, text);
  return text;
}

/**
 * A JSON call: the parsed body of a successful reply (undefined when empty),
 * or the BackendError the reply or the transport stands for.
 */
export async function callJson(reader: NetworkReader, spec: CallSpec): Promise<unknown> {
  const reply = await openCall(reader, spec);
  const text = await readText(reply, spec.endpoint);
  throwIfError(reply, spec.endpoint, text);
  if (text.trim() === '') return undefined;
  const body = parseJson(text);
  if (body === undefined) throw badReply(spec.endpoint, 'reply is not JSON', reply.statusCode);
  return body;
}
