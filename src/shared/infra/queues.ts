import { Queue, type ConnectionOptions, type FlowJob, type JobsOptions } from 'bullmq';
import type { Redis } from './redis.ts';
import { RedisScript } from './redis-script.ts';

/** BullMQ carries only the job id; everything else is on the job record. */
export interface RenderJobData {
  jobId: string;
  /** runs the backend's 429s sent back to the queue; they count against the job's attempts */
  rateLimited?: number;
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

/** How long BullMQ keeps a job once it has ended (the job records keep the history). */
const ENDED_JOBS_KEPT: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** How every render job is kept and retried, alone or as a batch's child. */
export function renderJobOptions(retry: RetryPolicy): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    ...ENDED_JOBS_KEPT,
  };
}

/** A batch's BullMQ flow: its parent in the batches queue, one render job per item. */
export function batchFlow(batchId: string, jobIds: readonly string[], retry: RetryPolicy): FlowJob {
  return {
    name: 'batch',
    queueName: BATCH_QUEUE,
    data: { batchId } satisfies BatchJobData,
    opts: { jobId: batchId, ...ENDED_JOBS_KEPT },
    children: jobIds.map((jobId) => ({
      name: 'render',
      queueName: RENDER_QUEUE,
      data: { jobId } satisfies RenderJobData,
      // a failed item must not hold the batch back: the parent runs when every item has ended
      opts: { ...renderJobOptions(retry), jobId, ignoreDependencyOnFailure: true },
    })),
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

/** BullMQ's list of waiting render jobs: newest at the head, workers take from the tail. */
export function waitListKey(prefix: string): string {
  return `${prefix}:${RENDER_QUEUE}:wait`;
}

/** KEYS: the wait list; ARGV: the job id. The jobs behind which it waits, or -1 when it is not waiting. */
const POSITION = new RedisScript(`
local index = redis.call('LPOS', KEYS[1], ARGV[1])
if not index then return -1 end
return redis.call('LLEN', KEYS[1]) - 1 - index
`);

/** A waiting job's place in line (0 = next), or undefined when it is not waiting. */
export async function queuePosition(redis: Redis, prefix: string, jobId: string): Promise<number | undefined> {
  const position = Number(await POSITION.run(redis, [waitListKey(prefix)], [jobId]));
  return position < 0 ? undefined : position;
}
