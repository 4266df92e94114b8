import Fastify, { type FastifyBaseLogger } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { Queue } from 'bullmq';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../shared/logger.ts';
import type { JobRecords } from '../shared/job-record.ts';
import type { RenderJobData } from '../shared/queues.ts';
import type { Storage } from '../shared/storage.ts';
import { authPlugin } from './plugins/auth.ts';
import { problemPlugin } from './plugins/problem.ts';
import { documentMultipartForms } from './schemas/multipart-docs.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';

export interface ApiDeps {
  logger: Logger;
  records: JobRecords;
  storage: Storage;
  queue: Pick<Queue<RenderJobData>, 'add'>;
  /** key → tenant */
  apiKeys: Map<string, string>;
  maxUploadBytes: number;
  publicUrl?: string;
}

/**
 * A multipart body reaches validation as null (the route reads the parts
 * itself, streaming files to storage), so only bodies that were parsed are
 * validated here; a route that takes both checks for a missing JSON body.
 */
const validateJsonBodies: typeof validatorCompiler = (route) => {
  const validate = validatorCompiler(route);
  return route.httpPart === 'body' ? (data) => (data == null ? { value: data } : validate(data)) : validate;
};

export async function buildApi(deps: ApiDeps) {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestTimeout: 120_000,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validateJsonBodies);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'i2v', version: '0.1.0', description: 'Turn still images into short MP4 videos.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => documentMultipartForms(jsonSchemaTransformObject(input)),
  });
  await app.register(problemPlugin);
  await app.register(multipart, {
    limits: { fileSize: deps.maxUploadBytes, files: 50, fields: 10, fieldSize: 64 * 1024, parts: 64 },
  });
  await app.register(authPlugin, { keys: deps.apiKeys });
  await app.register(healthRoutes);
  await app.register(jobRoutes, { records: deps.records, storage: deps.storage, queue: deps.queue, publicUrl: deps.publicUrl });
  return app;
}
