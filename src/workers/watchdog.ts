import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { JobRecords } from '../shared/job-record.ts';
import type { Logger } from '../shared/logger.ts';
import { MAINTENANCE_QUEUE, RENDER_QUEUE, type RenderJobData } from '../shared/queues.ts';
import type { WebhookEmitter } from '../shared/webhooks/emitter.ts';

/** States in which BullMQ still owns a job: someone will run it or is running it. */
const LIVE_STATES = new Set(['active', 'waiting', 'wait', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Finds jobs whose record says `running` but that BullMQ no longer runs or
 * holds (their worker vanished and BullMQ gave up on them, or they were
 * removed), and fails them with `worker_lost`, so no job stays running forever.
 */
export async function sweepLostJobs(
  records: JobRecords,
  renderQueue: Pick<Queue<RenderJobData>, 'getJobState'>,
  logger: Logger,
  webhooks?: Pick<WebhookEmitter, 'emitJobEvent'>,
): Promise<string[]> {
  const lost: string[] = [];
  for (const id of await records.runningIds()) {
    const state = await renderQueue.getJobState(id);
    if (LIVE_STATES.has(state)) continue;
    const failed = await records.transition(id, ['running'], 'failed', {
      error: { code: 'worker_lost', message: 'The worker running this job stopped and the job was not resumed. Retry it to continue from its last checkpoint.', retryable: true },
      finishedAt: new Date().toISOString(),
    });
    if (failed) {
      lost.push(id);
      await webhooks?.emitJobEvent('job.failed', id);
    } else await records.forgetRunning(id);
  }
  if (lost.length > 0) logger.warn({ jobs: lost }, 'failed jobs whose worker vanished');
  return lost;
}

/**
 * Runs the sweep on a BullMQ job scheduler, so that across a fleet it runs
 * once per interval, on whichever worker is free.
 */
export async function startWatchdog(
  connection: ConnectionOptions,
  prefix: string,
  records: JobRecords,
  logger: Logger,
  everyMs: number,
  webhooks?: Pick<WebhookEmitter, 'emitJobEvent'>,
): Promise<{ close(): Promise<void> }> {
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection, prefix });
  const renderQueue = new Queue<RenderJobData>(RENDER_QUEUE, { connection, prefix });
  await maintenance.upsertJobScheduler('watchdog', { every: everyMs }, { name: 'watchdog', opts: { removeOnComplete: true, removeOnFail: 100 } });
  const worker = new Worker(MAINTENANCE_QUEUE, async () => void (await sweepLostJobs(records, renderQueue, logger, webhooks)), { connection, prefix });
  return {
    async close() {
      await worker.close();
      await maintenance.close();
      await renderQueue.close();
    },
  };
}
