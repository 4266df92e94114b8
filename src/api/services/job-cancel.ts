import { JOB_LIFECYCLE } from '../../shared/jobs/job-lifecycle.ts';
import type { ApiServices } from './api-services.ts';

/**
 * Cancels a queued or running job: the record says so first (atomically, so a
 * worker's last write cannot undo it), a waiting job leaves the queue, and
 * the worker running it is told to stop. False when the job had already ended.
 */
export async function cancelJob(services: ApiServices, jobId: string): Promise<boolean> {
  const canceled = await services.records.transition(jobId, 'cancel', { finishedAt: new Date().toISOString() });
  if (!canceled) return false;
  // the event is enqueued while a waiting job is still queued: if this process stops here, the worker that takes the job re-emits it
  await services.webhooks.emitter.emitJobEvent(JOB_LIFECYCLE.cancel.webhook, jobId);
  const queued = await services.queue.getJob(jobId);
  // a batch item stays in its flow (the worker skips it), so the batch still completes
  if (queued && !queued.parentKey) await queued.remove().catch(() => {}); // a running job is locked by its worker
  await services.announceCancel(jobId);
  return true;
}
