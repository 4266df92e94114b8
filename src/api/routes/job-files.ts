import send from '@fastify/send';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../shared/errors.ts';
import { ownJob } from '../request-context.ts';
import { jobParamsSchema } from '../schemas/jobs.ts';
import type { ApiServices } from '../services.ts';
import { problems } from './jobs.ts';

const FILES = {
  video: { contentType: 'video/mp4', summary: 'Download the MP4 (Range requests supported)' },
  poster: { contentType: 'image/jpeg', summary: 'Download the poster frame (JPEG)' },
} as const;

/** The finished job's files, with Range, ETag and conditional requests. */
export const jobFileRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  for (const [kind, file] of Object.entries(FILES) as [keyof typeof FILES, (typeof FILES)[keyof typeof FILES]][]) {
    app.get(`/v1/jobs/:id/${kind}`, {
      schema: {
        summary: file.summary,
        params: jobParamsSchema,
        produces: [file.contentType],
        response: { 200: z.any().describe(file.contentType), 206: z.any().describe('the requested range'), ...problems },
      },
      handler: async (request, reply) => {
        const record = await ownJob(services, request, request.params.id);
        if (!record.result) {
          throw new ProblemError(409, 'not_ready', 'No video yet', `Job ${record.id} is ${record.status}; its files exist once it has succeeded.`);
        }
        const key = kind === 'video' ? record.result.videoKey : record.result.posterKey;
        const { statusCode, headers, stream, type } = await send(request.raw, services.storage.localPath(key), { dotfiles: 'allow', acceptRanges: true, etag: true });
        if (type === 'error' && statusCode === 404) {
          throw new ProblemError(404, 'not_found', 'File not found', `The ${kind} of job ${record.id} is no longer stored.`);
        }
        if (statusCode === 416) {
          return reply.code(416).headers(headers).type('application/problem+json').send({
            type: 'about:blank', title: 'Range not satisfiable', status: 416, code: 'range_not_satisfiable', detail: 'The requested range is outside the file.',
          });
        }
        reply.code(statusCode).headers(headers);
        if (statusCode < 300) reply.type(file.contentType);
        return reply.send(stream);
      },
    });
  }
};
