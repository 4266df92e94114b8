import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { redactText } from '../../../shared/infra/redact-text.ts';

const JOB_ID = /^job_[0-9A-Za-z]+$/;
const CREATED_JOB = /\/v1\/jobs\/(job_[0-9A-Za-z]+)$/;

/** The job a request is about: the `:id` it names, or the one it created (its Location). */
function jobIdOf(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string' && JOB_ID.test(id)) return id;
  const location = reply.getHeader('location');
  return typeof location === 'string' ? CREATED_JOB.exec(location)?.[1] : undefined;
}

/**
 * One log line per request, once it is answered, instead of Fastify's two:
 * route pattern, status, time, tenant and job, with secret query parameters
 * (signed URLs, tokens) taken out of the URL.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  /** the request line says 404 */
  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url,
      url: redactText(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      tenant: request.tenant || undefined,
      job_id: jobIdOf(request, reply),
    };
    if (error) request.log.error({ ...line, err: error }, 'request');
    else request.log.info(line, 'request');
  }
}
