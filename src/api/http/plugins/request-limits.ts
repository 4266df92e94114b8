import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import type { ProblemCode } from '../../../shared/errors/error-codes.ts';
import { problemBody, sendProblem, type ProblemFields } from '../problems.ts';

/** Deeper than any body this API takes (a batch item's caption is 4 levels down). */
export const MAX_JSON_DEPTH = 32;
/** What a request to an API route without a body may carry anyway (ignored). */
export const NO_BODY_LIMIT = 16 * 1024;

/** True when the JSON text nests objects and arrays deeper than `max`; strings are skipped. */
export function jsonNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export function tooDeep(path = 'body'): ProblemError {
  const message = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
  return new ProblemError('validation_failed', 'Invalid request', message, { errors: [{ path, message }] });
}

const notAnObject = () =>
  new ProblemError('validation_failed', 'Invalid request', 'the body must be a JSON object', { errors: [{ path: 'body', message: 'expected an object' }] });

function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/**
 * What every API request must respect before a handler sees it: JSON bodies
 * parsed by Fastify's own parser (prototype poisoning refused) behind a depth
 * limit; only the content types a route declares (`consumes`, else JSON for
 * a route with a body); routes without a body take at most a few kilobytes.
 * Body size limits of the routes that take one are set on the route itself.
 */
export const requestLimitsPlugin = fp(async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // text/plain bodies are no API's input: without a parser they are a 415
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (jsonNestedDeeperThan(text, MAX_JSON_DEPTH)) return done(tooDeep(), undefined);
    parseJson(request, text, done);
  });

  app.addHook('onRoute', (route) => {
    const takesBody = Boolean(route.schema?.body) || Boolean(route.schema?.consumes);
    if (!takesBody && route.url.startsWith('/v1/') && route.bodyLimit === undefined) route.bodyLimit = NO_BODY_LIMIT;
  });

  // Node drops a CONNECT it has no listener for without a word
  app.server.on('connect', (_request, socket: Socket) => {
    writeRawProblem(socket, { code: 'method_not_allowed', title: 'Method Not Allowed', detail: 'CONNECT is not supported.' });
  });
  // an Expect other than 100-continue: Node would answer a bare 417 itself
  app.server.on('checkExpectation', (_request, response: ServerResponse) => {
    writeProblem(response, { code: 'expectation_failed', title: 'Expectation Failed', detail: 'Only "Expect: 100-continue" is supported.' });
  });

  // validation lets a missing or null body through (a multipart one reaches it as null): only a multipart request may have none
  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.schema?.body && request.body == null && !request.isMultipart()) throw notAnObject();
  });

  app.addHook('preParsing', async (request) => {
    const schema = request.routeOptions.schema;
    if (!schema?.body && !schema?.consumes) return;
    const accepted = (schema.consumes as string[] | undefined) ?? ['application/json'];
    const type = mediaType(request.headers['content-type']);
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (type ? accepted.includes(type) : !hasBody) return;
    throw new ProblemError('unsupported_media_type', 'Unsupported media type', `${request.method} ${request.routeOptions.url} takes ${accepted.join(' or ')}${type ? `, not ${type}` : ''}.`);
  });
});

/** Busboy's words for a multipart body that ends early or has no usable boundary (it gives them no code). */

/** Errors Fastify's router raises before any route runs (a path it cannot decode, a parameter too long), as problems. */
export function problemFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void sendProblem(reply, {
    code: tooLong ? 'uri_too_long' : 'bad_request',
    title: tooLong ? 'URI Too Long' : 'Bad Request',
    detail: tooLong ? 'A part of the path is longer than any id.' : 'The path cannot be decoded.',
  });
}

function writeProblem(response: ServerResponse, problem: ProblemFields): void {
  const { status, text } = problemBody(problem);
  response.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text);
}

const CLIENT_ERRORS: Record<string, { code: ProblemCode; title: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', title: 'Request Header Fields Too Large' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', title: 'Request Timeout' },
};

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (malformed
 * framing, oversized headers, a client too slow to send its request) still
 * get a problem+json reply, and the connection is closed.
 */
export function problemClientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, title } = CLIENT_ERRORS[error.code ?? ''] ?? { code: 'bad_request', title: 'Bad Request' };
  if (!socket.writable) return void socket.destroy(error);
  writeRawProblem(socket, { code, title, detail: 'The request could not be read as HTTP.' });
}

/** A problem written straight to a socket Node has taken out of HTTP handling, which is then closed. */
function writeRawProblem(socket: Socket, problem: ProblemFields): void {
  const { status, text } = problemBody(problem);
  socket.end(`HTTP/1.1 ${status} ${problem.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
