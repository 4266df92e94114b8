import Fastify, { type FastifyBaseLogger } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Redis } from '../../shared/infra/redis.ts';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../../shared/infra/logger.ts';
import { authPlugin } from './plugins/auth.ts';
import { corsPlugin } from './plugins/cors.ts';
import { problemClientErrorHandler, problemFrameworkError, requestLimitsPlugin } from './plugins/request-limits.ts';
import { securityHeadersPlugin } from './plugins/security-headers.ts';
import { problemPlugin } from './plugins/problem.ts';
import { rateLimitPlugin } from './plugins/rate-limit.ts';
import { httpMetricsPlugin } from './plugins/http-metrics.ts';
import { RequestLogController } from './plugins/request-log.ts';
import { adminRoutes, type AdminOptions } from './routes/admin.ts';
import { healthRoutes } from './routes/health.ts';
import { jobActionRoutes } from './routes/job-actions.ts';
import { jobEventRoutes } from './routes/job-events.ts';
import { jobFileRoutes } from './routes/job-files.ts';
import { batchRoutes } from './routes/batches.ts';
import { revisionRoutes } from './routes/revisions.ts';
import { creditRoutes } from './routes/credits.ts';
import { jobRoutes } from './routes/jobs.ts';
import { templateRoutes } from './routes/templates.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { webPageRoutes } from './routes/web-page.ts';
import { documentMultipartForms } from './schemas/multipart-docs.ts';
import { withoutUnusedSchemas } from './schemas/unused-components.ts';
import type { ApiServices } from '../services/api-services.ts';

export interface ApiOptions {
  logger: Logger;
  /** key → tenant */
  apiKeys: Map<string, string>;
  maxUploadBytes: number;
  rateLimit: { perMinute: number; redis?: Redis; nameSpace: string };
  /** ADMIN_KEY and every queue: /admin/queues, /metrics, /v1/admin/stats; absent: those routes are off (404) */
  admin?: AdminOptions;
  /** browser origins allowed to call the API (CORS); none: CORS stays off */
  corsOrigins?: readonly string[];
  /** how long a client may take to send its headers, its whole request, and how long an idle keep-alive socket stays open */
  timeouts?: { headersMs: number; requestMs: number; keepAliveMs: number };
}

/** Defaults of HTTP_HEADERS_TIMEOUT_S, HTTP_REQUEST_TIMEOUT_S and HTTP_KEEP_ALIVE_TIMEOUT_S. */
const DEFAULT_TIMEOUTS = { headersMs: 10_000, requestMs: 300_000, keepAliveMs: 72_000 };

export const API_VERSION = '0.1.0';

/**
 * A multipart body reaches validation as null (the route reads the parts
 * itself, streaming files to storage), so only bodies that were parsed are
 * validated here; a route that takes both checks for a missing JSON body.
 */
const validateJsonBodies: typeof validatorCompiler = (route) => {
  const validate = validatorCompiler(route);
  return route.httpPart === 'body' ? (data) => (data == null ? { value: data } : validate(data)) : validate;
};

export async function buildApi(services: ApiServices, options: ApiOptions) {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    logController: new RequestLogController(),
    // slow clients (slow-loris) are cut off: headers, whole request, idle keep-alive
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.min(1000, timeouts.headersMs) },
    clientErrorHandler: problemClientErrorHandler,
    frameworkErrors: problemFrameworkError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validateJsonBodies);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(securityHeadersPlugin);
  await app.register(corsPlugin, { origins: options.corsOrigins ?? [] });
  await app.register(requestLimitsPlugin);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'i2v', version: API_VERSION, description: 'Turn still images into short MP4 videos.', license: { name: 'MIT', identifier: 'MIT' } },
      servers: [{ url: '{base_url}', description: 'Where the API runs (PORT, behind PUBLIC_URL when proxied)', variables: { base_url: { default: 'http://localhost:3000' } } }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS' }, adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_KEY (operators)' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => withoutUnusedSchemas(documentMultipartForms(jsonSchemaTransformObject(input))),
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  await app.register(problemPlugin);
  await app.register(httpMetricsPlugin);
  await app.register(multipart, {
    limits: { fileSize: options.maxUploadBytes, files: 51, fields: 20, fieldSize: 64 * 1024, parts: 80 },
  });
  await app.register(authPlugin, { keys: options.apiKeys });
  await app.register(rateLimitPlugin, options.rateLimit);
  for (const routes of [healthRoutes, jobRoutes, jobActionRoutes, jobFileRoutes, jobEventRoutes, uploadRoutes, batchRoutes, templateRoutes, revisionRoutes, creditRoutes, webhookRoutes]) {
    await app.register(routes, { services });
  }
  if (options.admin) await app.register(adminRoutes, options.admin);
  await app.register(webPageRoutes);
  return app;
}
