import { Worker, type ConnectionOptions } from 'bullmq';
import type { BatchRecord, BatchRecords } from '../shared/batch-record.ts';
import type { JobRecord, JobRecords } from '../shared/job-record.ts';
import type { Logger } from '../shared/logger.ts';
import { BATCH_QUEUE, type BatchJobData } from '../shared/queues.ts';

export interface BatchWorkerDeps {
  records: JobRecords;
  batches: BatchRecords;
  logger: Logger;
  /** called once per batch, when its last item has ended */
  onCompleted(batch: BatchRecord, jobs: JobRecord[]): Promise<void>;
}

/**
 * The parent of a batch's flow: BullMQ runs it once every item has ended
 * (failed items included). It marks the batch complete exactly once.
 */
export function createBatchWorker(deps: BatchWorkerDeps, connection: ConnectionOptions, prefix: string): Worker<BatchJobData> {
  return new Worker<BatchJobData>(
    BATCH_QUEUE,
    async (job) => {
      const batch = await deps.batches.get(job.data.batchId);
      if (!batch) return;
      const completedAt = new Date().toISOString();
      if (!(await deps.batches.complete(batch.id, completedAt))) return;
      const jobs = await deps.records.getMany(batch.jobIds);
      deps.logger.info({ batch_id: batch.id, jobs: jobs.length }, 'batch completed');
      await deps.onCompleted({ ...batch, completedAt }, jobs);
    },
    { connection, prefix },
  );
}
