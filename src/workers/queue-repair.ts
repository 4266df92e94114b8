import type { FlowProducer, Queue } from 'bullmq';
import type { BatchRecords } from '../shared/jobs/batch-record.ts';
import type { JobRecords } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { batchFlow, type RenderJobData, type RetryPolicy } from '../shared/infra/queues.ts';

/** States in which BullMQ still holds a render job: someone will run it or is running it. */
export const LIVE_STATES: ReadonlySet<string> = new Set(['active', 'waiting', 'wait', 'delayed', 'prioritized', 'waiting-children']);

/** ids read from the queued set per round trip */
const PAGE = 100;

export interface QueueRepairDeps {
  records: JobRecords;
  batches: BatchRecords;
  renderQueue: Pick<Queue<RenderJobData>, 'add' | 'getJobState' | 'remove'>;
  batchQueue: Pick<Queue, 'getJobState'>;
  flows: Pick<FlowProducer, 'add'>;
  retry: RetryPolicy;
  logger: Logger;
}

/**
 * A job's record and its queue entry are written one after the other (jobs,
 * batches, retries): BullMQ adds a job with a script of its own, which cannot
 * share a round trip with the record's script, whose Idempotency-Key claim
 * decides whether anything is written at all. An API that dies between the
 * two leaves a record `queued` that no worker would ever take. This finds
 * records queued since before `now - graceMs` whose BullMQ job is missing or
 * already ended, and enqueues them again under their own id; BullMQ ignores
 * an add whose id exists, so an API that was only slow cannot double a job.
 * A batch whose flow never reached Redis gets its whole flow, so it still
 * completes once.
 */
export async function requeueOrphans(deps: QueueRepairDeps, graceMs: number, now = Date.now()): Promise<string[]> {
  const requeued: string[] = [];
  const seen = new Set<string>();
  // ids stay listed until a worker takes them, so the pages move on by offset
  for (let offset = 0; ; offset += PAGE) {
    const ids = await deps.records.queuedBefore(now - graceMs, offset, PAGE);
    if (ids.length === 0) break;
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      for (const added of await repair(deps, id)) {
        seen.add(added);
        requeued.push(added);
      }
    }
  }
  if (requeued.length > 0) deps.logger.warn({ jobs: requeued }, 'enqueued jobs again whose queue entry was never written (their API stopped between the record and the queue)');
  return requeued;
}

/** The ids this job's repair enqueued (the whole batch when its flow was missing). */
async function repair(deps: QueueRepairDeps, id: string): Promise<string[]> {
  const record = await deps.records.get(id);
  if (!record || record.status !== 'queued') {
    await deps.records.forgetQueued(id);
    return [];
  }
  const state = await deps.renderQueue.getJobState(id);
  if (LIVE_STATES.has(state)) return [];
  if (record.batchId && state === 'unknown') {
    const batch = await deps.batches.get(record.batchId);
    if (batch && !batch.completedAt && (await deps.batchQueue.getJobState(batch.id)) === 'unknown') {
      await deps.flows.add(batchFlow(batch.id, await deps.records.getMany(batch.jobIds), deps.retry));
      return [...batch.jobIds];
    }
  }
  // a retry whose API stopped before it replaced the ended BullMQ job
  if (state !== 'unknown') await deps.renderQueue.remove(id);
  await deps.renderQueue.add('render', { jobId: id }, { jobId: id, ...(record.queuePriority ? { priority: record.queuePriority } : {}) });
  return [id];
}
