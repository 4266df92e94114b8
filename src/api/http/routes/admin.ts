import type { Queue } from 'bullmq';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AdminKey } from '../../../shared/infra/admin-key.ts';
import { readQueueCounts } from '../../../shared/infra/metrics/queue-counts.ts';
import { finishedInWindow } from '../../../shared/infra/metrics/queue-throughput.ts';
import { registry } from '../../../shared/infra/metrics/registry.ts';
import { THROUGHPUT_QUEUES } from '../../../shared/infra/queue-set.ts';
import { adminAuthPlugin } from '../plugins/admin-auth.ts';
import { problemReply } from '../schemas/jobs.ts';
import { queueDashboard } from './queue-dashboard.ts';

export interface AdminOptions {
  /** ADMIN_KEY */
  key: string;
  /** every queue of the project */
  queues: readonly Queue[];
}

/** The window of the throughput figures in GET /v1/admin/stats. */
const THROUGHPUT_WINDOW_MINUTES = 60;

const statsSchema = z
  .object({
    checked_at: z.string(),
    window_minutes: z.number().int().describe('the span of `throughput`'),
    queues: z.array(
      z.object({
        name: z.string(),
        counts: z.record(z.string(), z.number().int()).describe('jobs by BullMQ state (waiting, active, delayed, prioritized, waiting-children, completed, failed), as in i2v_queue_jobs'),
        throughput: z
          .object({ completed: z.number().int(), failed: z.number().int() })
          .nullable()
          .describe('jobs finished in the last window_minutes, by every worker; null for queues whose workers do not record it'),
      }),
    ),
  })
  .meta({ id: 'AdminStats' });

const security = [{ adminKey: [] }];
const unauthorized = { 401: problemReply('No ADMIN_KEY, or a wrong one (`unauthorized`)') };

/**
 * The operator's routes, all behind ADMIN_KEY and registered only when it is
 * set: Prometheus metrics, queue stats as JSON, and the queue dashboard.
 */
export const adminRoutes: FastifyPluginAsyncZod<AdminOptions> = async (app, { key, queues }) => {
  const adminKey = new AdminKey(key);

  await app.register(async (scope) => {
    await scope.register(adminAuthPlugin, { adminKey, challenge: 'Bearer' });

    scope.get('/metrics', {
      schema: {
        summary: "This API process's metrics (Prometheus text format)",
        operationId: 'getMetrics',
        description: 'Workers serve theirs on METRICS_PORT. Needs ADMIN_KEY as a Bearer token.',
        security,
        response: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain; version=0.0.4': { schema: z.string() } } }, ...unauthorized },
      },
      handler: async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    });

    scope.get('/v1/admin/stats', {
      schema: {
        summary: 'Jobs in every queue, and how many finished in the last hour',
        operationId: 'getAdminStats',
        description: 'Read from Redis, so it covers every API and worker process. Needs ADMIN_KEY.',
        security,
        response: { 200: statsSchema, ...unauthorized },
      },
      handler: async () => {
        const now = Date.now();
        const counts = await readQueueCounts(queues);
        const throughputQueues = new Set<string>(THROUGHPUT_QUEUES);
        return {
          checked_at: new Date(now).toISOString(),
          window_minutes: THROUGHPUT_WINDOW_MINUTES,
          queues: await Promise.all(
            queues.map(async (queue) => ({
              name: queue.name,
              counts: counts.find((c) => c.queue === queue.name)?.counts ?? {},
              throughput: throughputQueues.has(queue.name)
                ? {
                    completed: await finishedInWindow(queue, 'completed', THROUGHPUT_WINDOW_MINUTES, now),
                    failed: await finishedInWindow(queue, 'failed', THROUGHPUT_WINDOW_MINUTES, now),
                  }
                : null,
            })),
          ),
        };
      },
    });
  });

  await app.register(async (scope) => {
    await scope.register(adminAuthPlugin, { adminKey, challenge: 'Basic' });
    await scope.register(queueDashboard, { queues });
  });
};
