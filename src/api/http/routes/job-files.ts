import send from '@fastify/send';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemStatus } from '../../../shared/errors/error-codes.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { mimeTypeFor } from '../../../shared/media/media-formats.ts';
import { expiredProblem } from '../problems.ts';
import { ownJob } from '../request-context.ts';
import { jobParamsSchema, problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { problems } from './jobs.ts';

const FILES = {
  video: { contentType: mimeTypeFor('video.mp4'), summary: 'Download the MP4 (Range requests supported)', operationId: 'getJobVideo' },
  poster: { contentType: mimeTypeFor('poster.jpg'), summary: 'Download the poster frame (JPEG)', operationId: 'getJobPoster' },
} as const;

/**
 * The finished job's files. From local storage the API streams them, with
 * Range, ETag and conditional requests; from S3 it redirects (302) to a
 * presigned URL of the bucket, minted per request, where Range works too.
 */
export const jobFileRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  for (const [kind, file] of Object.entries(FILES) as [keyof typeof FILES, (typeof FILES)[keyof typeof FILES]][]) {
    app.get(`/v1/jobs/:id/${kind}`, {
      schema: {
        summary: file.summary,
        operationId: file.operationId,
        params: jobParamsSchema,
        produces: [file.contentType],
        response: {
          200: { description: 'The whole file', content: { [file.contentType]: { schema: z.any() } } },
          206: { description: 'The requested range', content: { [file.contentType]: { schema: z.any() } } },
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
        const key = kind === 'video' ? record.result.videoKey : record.result.posterKey;
        const gone = new ProblemError('not_found', 'File not found', `The ${kind} of job ${record.id} is no longer stored.`);
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
        if (statusCode < 300) reply.type(file.contentType);
        return reply.send(stream);
      },
    });
  }
};
