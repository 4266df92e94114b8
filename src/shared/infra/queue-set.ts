import { MetricsTime, Queue, type ConnectionOptions, type MetricsOptions } from 'bullmq';
import { BATCH_QUEUE, MAINTENANCE_QUEUE, RENDER_QUEUE, RETENTION_QUEUE } from './queues.ts';
import { WEBHOOK_QUEUE } from '../webhooks/events.ts';

/** Every BullMQ queue of the project. */
export const QUEUE_NAMES = [RENDER_QUEUE, BATCH_QUEUE, WEBHOOK_QUEUE, MAINTENANCE_QUEUE, RETENTION_QUEUE] as const;

/** The queues whose workers record per-minute completed/failed counts (BullMQ metrics), read by GET /v1/admin/stats. */
export const THROUGHPUT_QUEUES = [RENDER_QUEUE, WEBHOOK_QUEUE] as const;

/** The workers' BullMQ metrics option: a week of one-minute data points. */
export const QUEUE_METRICS: MetricsOptions = { maxDataPoints: MetricsTime.ONE_WEEK };

/** Every queue, opened for reading (the dashboard, queue gauges, admin stats); the caller closes them. */
export function openQueueSet(connection: ConnectionOptions, prefix: string): Queue[] {
  return QUEUE_NAMES.map((name) => new Queue(name, { connection, prefix }));
}
