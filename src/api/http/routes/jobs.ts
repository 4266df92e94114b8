import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { serializerCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { newId } from '../../../shared/infra/ids.ts';
import type { JobRecord } from '../../../shared/jobs/job-record.ts';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../services/idempotency.ts';
import { intakeJsonBody, intakeMultipart } from '../../services/job-intake.ts';
import { intakeTemplateJob, ownTemplate } from '../../services/template-jobs.ts';
import { jobView } from '../../../shared/jobs/job-view.ts';
import { baseUrl, ownJob } from '../request-context.ts';
import { bodyChoice } from '../schemas/body-choice.ts';
import { createJobFromTemplateSchema } from '../schemas/templates.ts';
import { createJobBodySchema, jobListSchema, jobParamsSchema, jobSchema, listJobsQuerySchema, problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';

export const problems = {
  400: problemReply('Invalid request (`validation_failed`, the fields in `errors`) or a malformed one (`bad_request`)'),
  401: problemReply('No API key, or an unknown one (`unauthorized`)'),
  404: problemReply("No such job, batch, upload, template or delivery for this tenant, or no such route (`not_found`)"),
  409: problemReply("The job's state does not allow it, or an Idempotency-Key was reused with another body"),
  413: problemReply('A body or file over its limit (`payload_too_large`)'),
  415: problemReply('A body type the route does not take, or a file that is not what it may be (`unsupported_media_type`)'),
  422: problemReply('A picture with more pixels than MAX_IMAGE_PIXELS (`image_too_large`)'),
  429: problemReply('Over RATE_LIMIT_PER_MINUTE for this API key (`rate_limited`); see Retry-After'),
  503: problemReply('Redis does not answer (`store_unavailable`); see Retry-After'),
};

/** The 422s of a job made from a template: the merge does not fit it. */
export const templateJobProblem = problemReply(
  'A picture with more pixels than MAX_IMAGE_PIXELS (`image_too_large`); a merge without a value for some placeholders (`placeholder_missing`) or with names the template does not use (`placeholder_unknown`), named in `placeholders`; options that break the rules of their `options.platform` (`platform_constraint`); `options.outputs` naming one rendition twice (`invalid_outputs`)',
);

/** The problems of a route that enqueues render jobs: the queue limits and the platform rules too. */
export const enqueueProblems = {
  ...problems,
  422: problemReply(
    'A picture with more pixels than MAX_IMAGE_PIXELS (`image_too_large`), or options that break the rules of their `options.platform` (`platform_constraint`, with `rule`, `value`, `limit` and `violations`)',
  ),
  429: problemReply('Over RATE_LIMIT_PER_MINUTE for this API key (`rate_limited`), or the tenant already has TENANT_MAX_QUEUED jobs queued (`tenant_queue_full`); see Retry-After'),
  503: problemReply('Redis does not answer (`store_unavailable`), or the render queue holds QUEUE_MAX_WAITING waiting jobs (`queue_full`); see Retry-After'),
};

/**
 * The 202 of POST /v1/jobs is the view of the record this request just built
 * (no result, no error, nothing read back from Redis), made by jobView with
 * exactly the schema's fields: it is written as it is, without zod checking
 * it again on the API's busiest path (~4 µs a reply). Every other reply,
 * including the 200 of a replayed or waited-for job, is still checked.
 */
const createdJobSerializer = (route: FastifyRouteSchemaDef<unknown>) =>
  route.httpStatus === '202' ? (data: unknown) => JSON.stringify(data) : serializerCompiler(route as Parameters<typeof serializerCompiler>[0]);

const MAX_WAIT_S = 60;
/** How many jobs one list request may look at while filtering. */
const LIST_SCAN_LIMIT = 1000;

const createHeaders = z.object({
  'idempotency-key': z.string().min(1).max(MAX_IDEMPOTENCY_KEY_CHARS).optional().describe('Same key within 24 h returns the original job'),
  prefer: z.string().optional().describe('`wait=N` (N ≤ 60): hold the reply up to N s and answer 200 with the finished job'),
});

function waitSeconds(prefer: string | undefined): number {
  const match = prefer ? /(?:^|[,;\s])wait=(\d+)/.exec(prefer) : null;
  return match?.[1] ? Math.min(Number(match[1]), MAX_WAIT_S) : 0;
}

function matchesFilters(record: JobRecord, status: string | undefined, metadata: [string, string][]): boolean {
  if (status && record.status !== status) return false;
  return metadata.every(([key, value]) => record.metadata[key] === value);
}

export const jobRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  const view = async (record: JobRecord, base: string) =>
    jobView(record, base, record.status === 'queued' ? await services.queuePosition(record.id) : undefined);

  app.post('/v1/jobs', {
    schema: {
      summary: 'Create a job',
      operationId: 'createJob',
      description:
        'JSON with image URLs or `upload:<id>` references (and `options.audio.url` for music, `options.logo.url` for a logo), or multipart/form-data with file parts named `images` (and one named `audio`, one named `logo`) and fields `prompt`, `preset`, `options`, `webhook_url`, `webhook_events`, `metadata` (objects as JSON text). Or `{ "template_id", "merge" }`: a saved template (POST /v1/templates) with a value for each placeholder, validated once merged exactly like a JSON body.',
      consumes: ['application/json', 'multipart/form-data'],
      headers: createHeaders,
      body: z.union([createJobBodySchema, createJobFromTemplateSchema]),
      response: { 200: jobSchema, 202: jobSchema, ...enqueueProblems, 422: templateJobProblem },
    },
    validatorCompiler: bodyChoice('template_id', createJobFromTemplateSchema, createJobBodySchema),
    serializerCompiler: createdJobSerializer,
    handler: async (request, reply) => {
      const id = newId('job');
      if (!request.isMultipart() && request.body == null) {
        throw new ProblemError('validation_failed', 'Invalid request', 'send a JSON object or a multipart form', { errors: [{ path: 'body', message: 'required' }] });
      }
      const body = request.body;
      const intake = request.isMultipart()
        ? await intakeMultipart(request, { storage: services.storage, uploads: services.uploads, maxPixels: services.maxPixels }, id)
        : 'template_id' in body
          ? await intakeTemplateJob(await ownTemplate(services.templates, request.tenant, body.template_id, body.template_version), body.merge, request.tenant, services.uploads, body)
          : await intakeJsonBody(body, request.tenant, services.uploads);
      const { record, replayed, queuePosition } = await services.submission.submit(request.tenant, id, intake, request.headers['idempotency-key']);
      const base = baseUrl(services, request);
      reply.header('location', `/v1/jobs/${record.id}`);
      if (replayed) return reply.code(200).header('idempotent-replayed', 'true').send(await view(record, base));
      const wait = waitSeconds(request.headers.prefer);
      const finished = wait > 0 ? await services.watcher.waitUntilDone(record.id, wait * 1000) : undefined;
      if (finished) return reply.code(200).header('preference-applied', `wait=${wait}`).send(await view(finished, base));
      // the place in line read as the job was added; after a wait it is read again
      return reply.code(202).send(wait > 0 ? await view(record, base) : jobView(record, base, queuePosition));
    },
  });

  app.get('/v1/jobs/:id', {
    schema: { summary: 'Get a job', operationId: 'getJob', params: jobParamsSchema, response: { 200: jobSchema, ...problems } },
    handler: async (request) => view(await ownJob(services, request, request.params.id), baseUrl(services, request)),
  });

  app.get('/v1/jobs', {
    schema: {
      summary: "List the tenant's jobs, newest first",
      operationId: 'listJobs',
      querystring: listJobsQuerySchema,
      response: { 200: jobListSchema, ...problems },
    },
    handler: async (request) => {
      const { status, limit, cursor, ...rest } = request.query;
      const metadata = Object.entries(rest)
        .filter(([key]) => key.startsWith('metadata.'))
        .map(([key, value]) => [key.slice('metadata.'.length), String(value)] as [string, string]);
      const unknown = Object.keys(rest).filter((key) => !key.startsWith('metadata.'));
      if (unknown.length > 0) {
        throw new ProblemError('validation_failed', 'Invalid request', `unknown filter ${unknown.map((k) => `"${k}"`).join(', ')}; filter with status= or metadata.<key>=`);
      }
      const found: JobRecord[] = [];
      let after = cursor;
      let scanned = 0;
      let exhausted = false;
      while (found.length < limit && scanned < LIST_SCAN_LIMIT) {
        const ids = await services.records.listIds(request.tenant, Math.min(100, Math.max(limit * 2, 20)), after);
        if (ids.length === 0) {
          exhausted = true;
          break;
        }
        for (const record of await services.records.getMany(ids)) {
          scanned++;
          after = record.id;
          if (matchesFilters(record, status, metadata)) found.push(record);
          if (found.length === limit) break;
        }
      }
      const base = baseUrl(services, request);
      const more = !exhausted && (found.length === limit || scanned >= LIST_SCAN_LIMIT) && (await services.records.listIds(request.tenant, 1, after)).length > 0;
      return { data: await Promise.all(found.map((record) => view(record, base))), next_cursor: more ? (after ?? null) : null };
    },
  });
};
