import { FlowProducer, Queue, Worker, type ConnectionOptions } from 'bullmq';
import { JobError } from '../shared/errors/job-error.ts';
import type { BatchRecords } from '../shared/jobs/batch-record.ts';
import type { JobRecords } from '../shared/jobs/job-record.ts';
import { JOB_LIFECYCLE } from '../shared/jobs/job-lifecycle.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { BATCH_QUEUE, createRenderQueue, MAINTENANCE_QUEUE, type RenderJobData, type RetryPolicy } from '../shared/infra/queues.ts';
import { logQueueErrors } from '../shared/infra/redis.ts';
import type { WebhookEmitter } from '../shared/webhooks/emitter.ts';
import { LIVE_STATES, requeueOrphans } from './queue-repair.ts';
import type { ParkedJobs } from './parking.ts';

/**
 * Finds jobs whose record says `running` but that BullMQ no longer runs or
 * holds (their worker vanished and BullMQ gave up on them, or they were
 * removed), and fails them with `worker_lost`, so no job stays running
 * forever; that frees its tenant's running place too, and `parking` wakes
 * the tenant's next parked job.
 */
export async function sweepLostJobs(
  records: JobRecords,
  renderQueue: Pick<Queue<RenderJobData>, 'getJobState'>,
  logger: Logger,
  webhooks?: Pick<WebhookEmitter, 'emitJobEvent'>,
  parking?: Pick<ParkedJobs, 'wake'>,
): Promise<string[]> {
  const lost: string[] = [];
  for (const id of await records.runningIds()) {
    const state = await renderQueue.getJobState(id);
    if (LIVE_STATES.has(state)) continue;
    const tenant = (await records.get(id))?.tenant;
    const failed = await records.transition(
      id,
      'lose',
      {
        error: new JobError('worker_lost', 'The worker running this job stopped and the job was not resumed. Retry it to continue from its last checkpoint.').toInfo(),
        finishedAt: new Date().toISOString(),
      },
      undefined,
      { tenant },
    );
    if (failed) {
      lost.push(id);
      await webhooks?.emitJobEvent(JOB_LIFECYCLE.lose.webhook, id);
      if (tenant !== undefined) await parking?.wake({ kind: 'tenant', tenant });
    } else await records.forgetRunning(id);
  }
  if (lost.length > 0) logger.warn({ jobs: lost }, 'failed jobs whose worker vanished');
  return lost;
}

export interface WatchdogDeps {
  records: JobRecords;
  batches: BatchRecords;
  logger: Logger;
  webhooks: Pick<WebhookEmitter, 'emitJobEvent'>;
  /** the render jobs' retry policy, for the jobs it enqueues again */
  retry: RetryPolicy;
  /** wakes a tenant's parked jobs once a lost job freed its running place */
  parking: Pick<ParkedJobs, 'wake'>;
}

/** A task on a BullMQ job scheduler. */
export interface Scheduled {
  /** (re)creates the scheduler: idempotent, for a Redis that came back without its data */
  schedule(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the sweeps on a BullMQ job scheduler, so that across a fleet they run
 * once per interval, on whichever worker is free: jobs left running by a
 * vanished worker, and jobs left queued without a queue entry (for longer
 * than one interval, far longer than an API takes between the two writes).
 */
export async function startWatchdog(connection: ConnectionOptions, prefix: string, deps: WatchdogDeps, everyMs: number): Promise<Scheduled> {
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection, prefix });
  const renderQueue = createRenderQueue(connection, prefix, deps.retry);
  const batchQueue = new Queue(BATCH_QUEUE, { connection, prefix });
  const flows = new FlowProducer({ connection, prefix });
  const repair = { ...deps, renderQueue, batchQueue, flows };
  const schedule = async () =>
    void (await maintenance.upsertJobScheduler('watchdog', { every: everyMs }, { name: 'watchdog', opts: { removeOnComplete: true, removeOnFail: 100 } }));
  await schedule();
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async () => {
      await sweepLostJobs(deps.records, renderQueue, deps.logger, deps.webhooks, deps.parking);
      await requeueOrphans(repair, everyMs);
    },
    { connection, prefix },
  );
  logQueueErrors(deps.logger, maintenance, renderQueue, batchQueue, flows, worker);
  return {
    schedule,
    async close() {
      await worker.close();
      await maintenance.close();
      await flows.close();
      await batchQueue.close();
      await renderQueue.close();
    },
  };
}
