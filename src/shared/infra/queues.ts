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

/** A job's priority class (the `priority` field of jobs and batches). */
export const PRIORITY_CLASSES = ['high', 'normal', 'low'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

/** BullMQ's largest job priority (2^21); smaller runs first. */
const MAX_BULL_PRIORITY = 2 ** 21;
/** How far apart the classes' bands are: high always precedes normal, normal low, whatever the ranks. */
const BAND = Math.floor(MAX_BULL_PRIORITY / PRIORITY_CLASSES.length);

/**
 * The BullMQ priority of a render job: its class's band plus its tenant's
 * rank (how many of the tenant's jobs were queued when it was submitted), so
 * tenants' jobs interleave: a tenant with 500 queued items does not hold back
 * another's first job. Every render job is prioritized (≥ 1).
 */
export function bullPriority(priority: PriorityClass, rank: number): number {
  return 1 + PRIORITY_CLASSES.indexOf(priority) * BAND + Math.min(Math.max(0, rank), BAND - 1);
}

/** A batch's BullMQ flow: its parent in the batches queue, one render job per item, each with its BullMQ priority. */
export function batchFlow(batchId: string, jobs: readonly { id: string; queuePriority?: number }[], retry: RetryPolicy): FlowJob {
  return {
    name: 'batch',
    queueName: BATCH_QUEUE,
    data: { batchId } satisfies BatchJobData,
    opts: { jobId: batchId, ...ENDED_JOBS_KEPT },
    children: jobs.map(({ id: jobId, queuePriority }) => ({
      name: 'render',
      queueName: RENDER_QUEUE,
      data: { jobId } satisfies RenderJobData,
      // a failed item must not hold the batch back: the parent runs when every item has ended
      opts: { ...renderJobOptions(retry), jobId, ignoreDependencyOnFailure: true, ...(queuePriority ? { priority: queuePriority } : {}) },
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

/** BullMQ's list of waiting render jobs (jobs without a priority): newest at the head, workers take from the tail before any prioritized job. */
export function waitListKey(prefix: string): string {
  return `${prefix}:${RENDER_QUEUE}:wait`;
}

/** BullMQ's sorted set of prioritized render jobs (every job this service adds), scored priority × 2^32 + a counter. */
export function prioritizedKey(prefix: string): string {
  return `${prefix}:${RENDER_QUEUE}:prioritized`;
}

/**
 * KEYS: the wait list, the prioritized set; ARGV: the job id. The jobs ahead
 * of it (every job in the wait list, which workers take first, then the
 * prioritized ones before it), or -1 when it is not waiting. O(log N) for a
 * prioritized job; a job in the wait list (added before priorities) is found
 * with LPOS.
 */
const POSITION = new RedisScript(`
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
if rank then return redis.call('LLEN', KEYS[1]) + rank end
local index = redis.call('LPOS', KEYS[1], ARGV[1])
if not index then return -1 end
return redis.call('LLEN', KEYS[1]) - 1 - index
`);

/** A waiting job's place in line (0 = next), or undefined when it is not waiting. */
export async function queuePosition(redis: Redis, prefix: string, jobId: string): Promise<number | undefined> {
  const position = Number(await POSITION.run(redis, [waitListKey(prefix), prioritizedKey(prefix)], [jobId]));
  return position < 0 ? undefined : position;
}
