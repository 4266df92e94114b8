import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { batchView } from '../../../shared/jobs/batch-view.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../services/idempotency.ts';
import { cancelJob } from '../../services/job-cancel.ts';
import { intakeJsonBody, validationProblem, type JobIntake } from '../../services/job-intake.ts';
import { parseCsvRows, readTemplateBatchForm } from '../../services/template-csv.ts';
import { intakeTemplateRows, ownTemplate } from '../../services/template-jobs.ts';
import { templatePlaceholders } from '../../../shared/jobs/template-body.ts';
import { bodyChoice } from '../schemas/body-choice.ts';
import { createBatchFromTemplateSchema, type CreateBatchFromTemplate } from '../schemas/templates.ts';
import { problemReply } from '../schemas/jobs.ts';
import { baseUrl } from '../request-context.ts';
import { batchParamsSchema, batchSchema, createBatchBodySchema, createdBatchSchema } from '../schemas/batches.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { enqueueProblems, problems } from './jobs.ts';

const templateBatchProblem = problemReply(
  'Rows of a template that do not make valid jobs (`template_rows_invalid`, each in `rows` with its number and problem), or a CSV that cannot be read or whose columns are not the template\'s placeholders (`csv_invalid`); nothing was enqueued',
);

/** A catalogue at a time: many jobs submitted, followed and reported together. */
export const batchRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  async function ownBatch(tenant: string, id: string) {
    const batch = await services.batches.get(id);
    if (!batch || batch.tenant !== tenant) throw new ProblemError('not_found', 'Batch not found', `There is no batch ${id}.`);
    return batch;
  }

  /** The jobs of a batch made from a template: JSON rows, or a CSV (multipart) with one column per placeholder. */
  async function templateBatch(request: FastifyRequest, json: CreateBatchFromTemplate | undefined): Promise<{ body: CreateBatchFromTemplate; intakes: JobIntake[] }> {
    if (json) {
      const template = await ownTemplate(services.templates, request.tenant, json.template_id, json.template_version);
      return { body: json, intakes: await intakeTemplateRows(template, json.rows, request.tenant, services.uploads) };
    }
    const form = await readTemplateBatchForm(request);
    const fields = createBatchFromTemplateSchema.omit({ rows: true }).safeParse(form.fields);
    if (!fields.success) throw validationProblem(fields.error, 'body');
    const template = await ownTemplate(services.templates, request.tenant, fields.data.template_id, fields.data.template_version);
    const { rows, lines } = parseCsvRows(form.csv, templatePlaceholders(template.body));
    const intakes = await intakeTemplateRows(template, rows, request.tenant, services.uploads, (row) => `row ${row} (line ${lines[row - 1]})`);
    return { body: { ...fields.data, rows }, intakes };
  }

  app.post('/v1/batches', {
    schema: {
      summary: 'Create a batch of jobs',
      operationId: 'createBatch',
      description:
        'Up to 500 job bodies (JSON, images by URL or `upload:<id>`); or a template (POST /v1/templates) with up to 500 `rows`, one merge each, as JSON or as a CSV file part named `rows` of a multipart form (fields `template_id`, `template_version`, `webhook_url`, `webhook_events`, `metadata`, `priority`; a header of placeholder names, then one row per job). A row that does not make a valid job answers 422 naming it, and nothing is enqueued. Items share a backend session where the backend allows, each with its own render; `batch.completed` is sent once when the last item ends.',
      consumes: ['application/json', 'multipart/form-data'],
      headers: z.object({ 'idempotency-key': z.string().min(1).max(MAX_IDEMPOTENCY_KEY_CHARS).optional() }),
      body: z.union([createBatchBodySchema, createBatchFromTemplateSchema]),
      response: { 200: createdBatchSchema, 202: createdBatchSchema, ...enqueueProblems, 422: templateBatchProblem },
    },
    validatorCompiler: bodyChoice('template_id', createBatchFromTemplateSchema, createBatchBodySchema),
    bodyLimit: 8 * 1024 * 1024,
    handler: async (request, reply) => {
      const body = request.body;
      if (!request.isMultipart() && body == null) {
        throw new ProblemError('validation_failed', 'Invalid request', 'send a JSON object or a multipart form', { errors: [{ path: 'body', message: 'required' }] });
      }
      const { body: batchBody, intakes } =
        request.isMultipart() || 'template_id' in body
          ? await templateBatch(request, request.isMultipart() ? undefined : (body as CreateBatchFromTemplate))
          : { body, intakes: await Promise.all(body.items.map((item) => intakeJsonBody(item, request.tenant, services.uploads))) };
      const { batch, replayed } = await services.batchSubmission.submit(request.tenant, batchBody, intakes, request.headers['idempotency-key']);
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
