import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { DashboardQueueAdapter } from '../dashboard-queue-adapter.ts';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * Bull Board over every queue, read-only: jobs are changed through the API
 * (cancel, retry), which keeps the job records and webhooks in step; a job
 * removed or retried behind their back would leave its record stuck. Its
 * routes are hidden from the OpenAPI document.
 */
export const queueDashboard: FastifyPluginAsync<{ queues: readonly Queue[] }> = async (app, { queues }) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new DashboardQueueAdapter(queue, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'i2v queues', hideDocsLink: true } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
};
