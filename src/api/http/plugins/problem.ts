import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { problemStatus, type ProblemCode } from '../../../shared/errors/error-codes.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { isRedisUnavailable } from '../../../shared/infra/redis.ts';
import { malformedMultipart, sendProblem } from '../problems.ts';



/** Fastify's own error codes that are the client's fault, mapped to stable codes. */
const FASTIFY_CODES: Record<string, { code: ProblemCode; title: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', title: 'Payload too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', title: 'Unsupported media type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'validation_failed', title: 'Invalid request body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'validation_failed', title: 'Invalid request body' },
  FST_REQ_FILE_TOO_LARGE: { code: 'payload_too_large', title: 'File too large' },
  FST_PARTS_LIMIT: { code: 'payload_too_large', title: 'Too many parts' },
  FST_FILES_LIMIT: { code: 'payload_too_large', title: 'Too many files' },
  FST_FIELDS_LIMIT: { code: 'payload_too_large', title: 'Too many fields' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'unsupported_media_type', title: 'Not a multipart request' },
};

/** Seconds a client is asked to wait before trying again while Redis is away. */
export const STORE_RETRY_AFTER_S = 5;

/**
 * Every error leaves as RFC 9457 problem+json with a stable `code`; a 5xx is
 * logged with its stack and says nothing of internals to the client. Redis
 * not answering (down, frozen, loading) is a 503 `store_unavailable` the
 * client can retry, not a 500.
 */
export const problemPlugin = fp(async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) {
      if (error.retryAfterS !== undefined) reply.header('retry-after', String(error.retryAfterS));
      return sendProblem(reply, { code: error.code, title: error.title, detail: error.message, ...error.extra });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((v) => ({
        // an unknown key is reported at its object, whose path is "/" at the top
        path: `${error.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`.replace(/\.$/, ''),
        message: v.message ?? 'invalid',
      }));
      return sendProblem(reply, {
        code: 'validation_failed',
        title: 'Invalid request',
        detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        errors,
      });
    }
    const malformed = request.isMultipart() ? malformedMultipart(error) : undefined;
    if (malformed) return sendProblem(reply, { code: malformed.code, title: malformed.title, detail: malformed.message });
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    const status = error.statusCode ?? 500;
    if (known || (status >= 400 && status < 500)) {
      const code = known?.code ?? 'bad_request';
      // only payload_too_large is always its own status; the rest keep the one Fastify or a plugin gave (a 406 of @fastify/multipart)
      return sendProblem(reply, { code, title: known?.title ?? 'Bad request', detail: error.message }, code === 'payload_too_large' ? problemStatus(code) : status);
    }
    if (isRedisUnavailable(error)) {
      request.log.warn({ err: error }, 'Redis unavailable');
      reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      return sendProblem(reply, { code: 'store_unavailable', title: 'Service unavailable', detail: 'The job store does not answer; try again shortly.' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, { code: 'internal', title: 'Internal error', detail: 'The server could not complete the request.' });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { code: 'not_found', title: 'Not found', detail: `${request.method} ${request.url} does not exist` }),
  );
});
