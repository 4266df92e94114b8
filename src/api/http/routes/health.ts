import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';

/** What any request may get before a route runs: HTTP that Node's parser refuses, headers over its limit. */
const unreadable = { '4xx': problemReply('The request could not be read as HTTP (`bad_request`) or its headers are too large (`headers_too_large`)') };

/** Health checks and the API's own description; none needs a key. */
export const healthRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: { summary: 'The process is up', operationId: 'getHealth', security: [], response: { 200: z.object({ status: z.literal('ok') }), ...unreadable } },
    handler: async () => ({ status: 'ok' as const }),
  });

  const tokenRejected = z
    .object({ rejections: z.number().int().describe("rejections in a row"), last_rejected_at: z.string(), retry_at: z.string().describe("when workers try NEMO_TOKEN again") })
    .describe('present while the backend rejects NEMO_TOKEN: workers use an anonymous token until retry_at, then try NEMO_TOKEN again');
  const readiness = z.object({ status: z.enum(['ready', 'unavailable']), redis: z.boolean(), backend: z.boolean(), configured_token_rejected: tokenRejected.optional() });
  app.get('/readyz', {
    config: { public: true },
    schema: { summary: 'Redis and the render backend answer', operationId: 'getReadiness', security: [], response: { 200: readiness, 503: readiness, ...unreadable } },
    handler: async (_request, reply) => {
      const { tokenRejection, ...checks } = await services.readiness();
      const ready = checks.redis && checks.backend;
      const rejected = tokenRejection && { rejections: tokenRejection.rejections, last_rejected_at: tokenRejection.lastRejectedAt, retry_at: tokenRejection.retryAt };
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', ...checks, ...(rejected && { configured_token_rejected: rejected }) });
    },
  });

  app.get('/openapi.json', {
    config: { public: true },
    schema: { hide: true },
    handler: async () => app.swagger(),
  });
};
