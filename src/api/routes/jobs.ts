import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { ProblemError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { JobInput, JobRecord, JobRecords } from '../../shared/job-record.ts';
import type { RenderJobData } from '../../shared/queues.ts';
import type { Storage } from '../../shared/storage.ts';
import { inputsOfJsonBody, readMultipartJob, type JobFields } from '../job-intake.ts';
import { jobView } from '../job-view.ts';
import { createJobBodySchema, jobParamsSchema, jobSchema, problemSchema } from '../schemas/jobs.ts';

export interface JobRoutesOptions {
  records: JobRecords;
  storage: Storage;
  queue: Pick<Queue<RenderJobData>, 'add'>;
  publicUrl?: string;
}

const problems = { 400: problemSchema, 401: problemSchema, 404: problemSchema, 409: problemSchema, 413: problemSchema, 415: problemSchema };

export const jobRoutes: FastifyPluginAsyncZod<JobRoutesOptions> = async (app, { records, storage, queue, publicUrl }) => {
  const baseUrl = (request: FastifyRequest) => publicUrl ?? `${request.protocol}://${request.host}`;

  async function submit(tenant: string, id: string, fields: JobFields, inputs: JobInput[]): Promise<JobRecord> {
    const record: JobRecord = {
      id,
      tenant,
      status: 'queued',
      stage: 'queued',
      progress: 0,
      preset: fields.preset,
      prompt: fields.prompt,
      options: fields.options,
      inputs,
      createdAt: new Date().toISOString(),
      attempts: 0,
      checkpoint: {},
    };
    await records.create(record);
    await queue.add('render', { jobId: id }, { jobId: id });
    return record;
  }

  /** A job of this tenant, or 404 whether it is missing or another tenant's. */
  async function ownJob(request: FastifyRequest, id: string): Promise<JobRecord> {
    const record = await records.get(id);
    if (!record || record.tenant !== request.tenant) {
      throw new ProblemError(404, 'not_found', 'Job not found', `There is no job ${id}.`);
    }
    return record;
  }

  app.post('/v1/jobs', {
    schema: {
      summary: 'Create a job',
      description:
        'JSON with image URLs (and `options.audio.url` for music), or multipart/form-data with file parts named `images` (and one named `audio`) and fields `prompt`, `preset`, `options` (JSON text).',
      consumes: ['application/json', 'multipart/form-data'],
      body: createJobBodySchema,
      response: { 202: jobSchema, ...problems },
    },
    handler: async (request, reply) => {
      const id = newId('job');
      if (!request.isMultipart() && request.body == null) {
        throw new ProblemError(400, 'validation_failed', 'Invalid request', 'send a JSON object or a multipart form', { errors: [{ path: 'body', message: 'required' }] });
      }
      const submission = request.isMultipart()
        ? await readMultipartJob(request, storage, id)
        : { fields: request.body, inputs: inputsOfJsonBody(request.body) };
      const record = await submit(request.tenant, id, submission.fields, submission.inputs);
      const view = jobView(record, baseUrl(request));
      return reply.code(202).header('location', `/v1/jobs/${id}`).send(view);
    },
  });

  app.get('/v1/jobs/:id', {
    schema: { summary: 'Get a job', params: jobParamsSchema, response: { 200: jobSchema, ...problems } },
    handler: async (request) => jobView(await ownJob(request, request.params.id), baseUrl(request)),
  });

  const fileRoute = (kind: 'video' | 'poster', contentType: string) =>
    app.get(`/v1/jobs/:id/${kind}`, {
      schema: {
        summary: kind === 'video' ? 'Download the MP4' : 'Download the poster frame (JPEG)',
        params: jobParamsSchema,
        produces: [contentType],
        response: { 200: z.any().describe(contentType), ...problems },
      },
      handler: async (request, reply) => {
        const record = await ownJob(request, request.params.id);
        if (!record.result) {
          throw new ProblemError(409, 'not_ready', 'No video yet', `Job ${record.id} is ${record.status}; its files exist once it has succeeded.`);
        }
        const key = kind === 'video' ? record.result.videoKey : record.result.posterKey;
        const size = await storage.size(key);
        if (size === undefined) throw new ProblemError(404, 'not_found', 'File not found', `The ${kind} of job ${record.id} is no longer stored.`);
        return reply.type(contentType).header('content-length', size).send(storage.read(key));
      },
    });
  fileRoute('video', 'video/mp4');
  fileRoute('poster', 'image/jpeg');
};
