import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TERMINAL_STATUSES } from '../../../shared/jobs/job-record.ts';
import { jobView } from '../../../shared/jobs/job-view.ts';
import { baseUrl, ownJob } from '../request-context.ts';
import { jobParamsSchema } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { problems } from './jobs.ts';

/**
 * Live progress as Server-Sent Events: the job's snapshot now, then after
 * every stage, status or progress change (whichever process made it), a
 * keep-alive comment while idle, and the end of the stream after the job ends.
 */
export const jobEventRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.get('/v1/jobs/:id/events', {
    schema: {
      summary: "Follow a job's progress (Server-Sent Events)",
      operationId: 'streamJobEvents',
      description: 'Each `event: job` carries the job as GET /v1/jobs/:id returns it. The stream closes after the job ends.',
      params: jobParamsSchema,
      produces: ['text/event-stream'],
      response: { 200: { description: 'One `event: job` per change, then the end of the stream', content: { 'text/event-stream': { schema: z.string() } } }, ...problems },
    },
    handler: async (request, reply) => {
      const first = await ownJob(services, request, request.params.id);
      const base = baseUrl(services, request);
      const res = reply.hijack().raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });

      let shown = '';
      let sequence = 0;
      let reading = false;
      let again = false;
      let closed = false;
      const emit = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            const record = await services.records.get(first.id);
            if (!record || closed) return;
            const position = record.status === 'queued' ? await services.queuePosition(record.id) : undefined;
            const fingerprint = `${record.status}|${record.stage}|${Math.round(record.progress)}|${position}`;
            if (fingerprint !== shown) {
              shown = fingerprint;
              res.write(`event: job\nid: ${++sequence}\ndata: ${JSON.stringify(jobView(record, base, position))}\n\n`);
            }
            if (TERMINAL_STATUSES.has(record.status)) return close();
          } while (again);
        } finally {
          reading = false;
        }
      };
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), services.keepAliveMs);
      const unwatch = await services.watcher.watch(first.id, () => void emit().catch((error) => request.log.warn({ err: error }, 'event stream read failed')));
      function close(): void {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        unwatch();
        res.end();
      }
      request.raw.on('close', close);
      await emit();
    },
  });
};
