import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { batchView } from '../../../shared/jobs/batch-view.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../services/idempotency.ts';
import { cancelJob } from '../../services/job-cancel.ts';
import { intakeJsonBody } from '../../services/job-intake.ts';
import { baseUrl } from '../request-context.ts';
import { batchParamsSchema, batchSchema, createBatchBodySchema, createdBatchSchema } from '../schemas/batches.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { enqueueProblems, problems } from './jobs.ts';

/** A catalogue at a time: many jobs submitted, followed and reported together. */
export const batchRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  async function ownBatch(tenant: string, id: string) {
    const batch = await services.batches.get(id);
    if (!batch || batch.tenant !== tenant) throw new ProblemError('not_found', 'Batch not found', `There is no batch ${id}.`);
    return batch;
  }

  app.post('/v1/batches', {
    schema: {
      summary: 'Create a batch of jobs',
      operationId: 'createBatch',
      description: 'Up to 500 job bodies (JSON, images by URL or `upload:<id>`). Items share a backend session where the backend allows, each with its own render; `batch.completed` is sent once when the last item ends.',
      headers: z.object({ 'idempotency-key': z.string().min(1).max(MAX_IDEMPOTENCY_KEY_CHARS).optional() }),
      body: createBatchBodySchema,
      response: { 200: createdBatchSchema, 202: createdBatchSchema, ...enqueueProblems },
    },
    bodyLimit: 8 * 1024 * 1024,
    handler: async (request, reply) => {
      const intakes = await Promise.all(request.body.items.map((item) => intakeJsonBody(item, request.tenant, services.uploads)));
      const { batch, replayed } = await services.batchSubmission.submit(request.tenant, request.body, intakes, request.headers['idempotency-key']);
      return reply
        .code(replayed ? 200 : 202)
        .header('location', `/v1/batches/${batch.id}`)
        .send({ id: batch.id, status: 'running' as const, job_ids: batch.jobIds });
    },
  });

  app.get('/v1/batches/:id', {
    schema: { summary: 'Get a batch with its jobs and counts', operationId: 'getBatch', params: batchParamsSchema, response: { 200: batchSchema, ...problems } },
    handler: async (request) => {
      const batch = await ownBatch(request.tenant, request.params.id);
      return batchView(batch, await services.records.getMany(batch.jobIds), baseUrl(services, request));
    },
  });

  app.post('/v1/batches/:id/cancel', {
    schema: {
      summary: "Cancel a batch's queued and running jobs",
      operationId: 'cancelBatch',
      description: 'Jobs that have already ended keep their outcome.',
      params: batchParamsSchema,
      response: { 200: batchSchema, ...problems },
    },
    handler: async (request) => {
      const batch = await ownBatch(request.tenant, request.params.id);
      await services.batches.markCanceled(batch.id, new Date().toISOString());
      for (const jobId of batch.jobIds) await cancelJob(services, jobId);
      const now = await ownBatch(request.tenant, batch.id);
      return batchView(now, await services.records.getMany(now.jobIds), baseUrl(services, request));
    },
  });
};
