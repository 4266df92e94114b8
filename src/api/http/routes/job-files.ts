import send from '@fastify/send';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemStatus } from '../../../shared/errors/error-codes.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { MAX_OUTPUTS } from '../../../shared/jobs/job-options.ts';
import { storedOutput } from '../../../shared/jobs/job-view.ts';
import { mimeTypeFor } from '../../../shared/media/media-formats.ts';
import { expiredProblem } from '../problems.ts';
import { ownJob } from '../request-context.ts';
import { jobParamsSchema, problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { problems } from './jobs.ts';

/** a file name of each format a rendition is stored as */
const OUTPUT_FORMAT_FILES = ['video.mp4', 'video.webm', 'video.gif'];
const VIDEO_TYPES = [...new Set(OUTPUT_FORMAT_FILES.map((name) => mimeTypeFor(name)))];
const POSTER_TYPE = mimeTypeFor('poster.jpg');

/** The files of a job: its video and poster, and each rendition's. */
const FILES = [
  { url: '/v1/jobs/:id/video', kind: 'video', types: VIDEO_TYPES, summary: 'Download the video: the first rendition (Range requests supported)', operationId: 'getJobVideo' },
  { url: '/v1/jobs/:id/poster', kind: 'poster', types: [POSTER_TYPE], summary: 'Download the poster frame (JPEG)', operationId: 'getJobPoster' },
  { url: '/v1/jobs/:id/outputs/:n/video', kind: 'video', types: VIDEO_TYPES, summary: 'Download rendition n (0 is the first) of result.outputs: MP4, WebM or GIF (Range requests supported)', operationId: 'getJobOutputVideo' },
  { url: '/v1/jobs/:id/outputs/:n/poster', kind: 'poster', types: [POSTER_TYPE], summary: "Download rendition n's poster frame (JPEG)", operationId: 'getJobOutputPoster' },
] as const;

const outputParamsSchema = jobParamsSchema.extend({ n: z.coerce.number().int().min(0).max(MAX_OUTPUTS - 1).describe('the index in result.outputs') });

/**
 * The finished job's files. From local storage the API streams them, with
 * Range, ETag and conditional requests; from S3 it redirects (302) to a
 * presigned URL of the bucket, minted per request, where Range works too.
 */
export const jobFileRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  for (const file of FILES) {
    const content = Object.fromEntries(file.types.map((type) => [type, { schema: z.any() }]));
    app.get(file.url, {
      schema: {
        summary: file.summary,
        operationId: file.operationId,
        params: file.url.includes(':n') ? outputParamsSchema : jobParamsSchema,
        produces: [...file.types],
        response: {
          200: { description: 'The whole file', content },
          206: { description: 'The requested range', content },
          302: z.null().describe('With STORAGE=s3: `Location` is a presigned URL of the file, valid for S3_URL_TTL_S (send no Authorization header there)'),
          304: z.null().describe('Not modified since the `If-None-Match` / `If-Modified-Since` of the request'),
          ...problems,
          410: problemReply('The files were deleted RETENTION_DAYS after the job finished (`expired`)'),
          416: problemReply('The `Range` is outside the file (`range_not_satisfiable`)'),
        },
      },
      handler: async (request, reply) => {
        const record = await ownJob(services, request, request.params.id);
        if (record.expiredAt) throw expiredProblem(record.id, record.expiredAt);
        if (!record.result) {
          throw new ProblemError('not_ready', 'No video yet', `Job ${record.id} is ${record.status}; its files exist once it has succeeded.`);
        }
        const n = 'n' in request.params ? (request.params.n as number) : 0;
        const output = storedOutput(record.result, n);
        if (!output) throw new ProblemError('not_found', 'No such rendition', `Job ${record.id} has ${record.result.outputs?.length ?? 1} renditions, numbered from 0.`);
        const key = file.kind === 'video' ? output.videoKey : output.posterKey;
        const gone = new ProblemError('not_found', 'File not found', `The ${file.kind} of job ${record.id} is no longer stored.`);
        const delivery = await services.storage.delivery(key);
        if (!delivery) throw gone;
        if (delivery.kind === 'url') return reply.code(302).header('location', delivery.url).header('cache-control', 'no-store').send();
        const { statusCode, headers, stream, type } = await send(request.raw, delivery.path, { dotfiles: 'allow', acceptRanges: true, etag: true });
        if (type === 'error' && statusCode === 404) throw gone;
        if (statusCode === 416) {
          const status = problemStatus('range_not_satisfiable');
          return reply.code(status).headers(headers).type('application/problem+json').send({
            type: 'about:blank', title: 'Range not satisfiable', status, code: 'range_not_satisfiable', detail: 'The requested range is outside the file.',
          });
        }
        reply.code(statusCode).headers(headers);
        if (statusCode < 300) reply.type(mimeTypeFor(key));
        return reply.send(stream);
      },
    });
  }
};
