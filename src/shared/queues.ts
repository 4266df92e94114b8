import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ carries only the job id; everything else is on the job record. */
export interface RenderJobData {
  jobId: string;
}

export const RENDER_QUEUE = 'render';
/** A batch is a BullMQ flow: a parent here whose children are the batch's render jobs. */
export const BATCH_QUEUE = 'batches';

/** The workers' job scheduler (the watchdog sweep). */
export const MAINTENANCE_QUEUE = 'maintenance';

export interface BatchJobData {
  batchId: string;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** How every render job is kept and retried, alone or as a batch's child. */
export function renderJobOptions(retry: RetryPolicy): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export function createRenderQueue(connection: ConnectionOptions, prefix: string, retry: RetryPolicy = { attempts: 5, backoffMs: 2000 }): Queue<RenderJobData> {
  return new Queue<RenderJobData>(RENDER_QUEUE, { connection, prefix, defaultJobOptions: renderJobOptions(retry) });
}

/** The workers' retention job scheduler: deletes files past RETENTION_DAYS. */
export const RETENTION_QUEUE = 'retention';

/** Where API processes announce cancellations; every worker listens and stops the job if it runs it. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * A waiting job's place in line (0 = next), or undefined when it is not
 * waiting. BullMQ keeps waiting jobs in a list, newest at the head, and
 * workers take from the tail.
 */
export async function queuePosition(redis: Redis, prefix: string, jobId: string): Promise<number | undefined> {
  const wait = `${prefix}:${RENDER_QUEUE}:wait`;
  const replies = await redis.multi().lpos(wait, jobId).llen(wait).exec();
  const index = replies?.[0]?.[1] as number | null;
  const length = replies?.[1]?.[1] as number;
  return index === null || index === undefined ? undefined : length - 1 - index;
}
