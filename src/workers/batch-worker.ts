import { Worker, type ConnectionOptions } from 'bullmq';
import type { BatchRecord, BatchRecords } from '../shared/jobs/batch-record.ts';
import type { JobRecord, JobRecords } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { BATCH_QUEUE, type BatchJobData } from '../shared/infra/queues.ts';

export interface BatchWorkerDeps {
  records: JobRecords;
  batches: BatchRecords;
  logger: Logger;
  /** HISTORY_DAYS in seconds: how long a completed batch's record is kept */
  historyS: number;
  /** called when the batch's last item has ended (again if that run was interrupted; it must be idempotent) */
  onCompleted(batch: BatchRecord, jobs: JobRecord[]): Promise<void>;
}

/**
 * The parent of a batch's flow: BullMQ runs it once every item has ended
 * (failed items included). It marks the batch complete once.
 */
export function createBatchWorker(deps: BatchWorkerDeps, connection: ConnectionOptions, prefix: string): Worker<BatchJobData> {
  return new Worker<BatchJobData>(
    BATCH_QUEUE,
    async (job) => {
      const batch = await deps.batches.get(job.data.batchId);
      if (!batch) return;
      const first = await deps.batches.complete(batch.id, new Date().toISOString(), deps.historyS);
      const completed = (await deps.batches.get(batch.id)) as BatchRecord;
      const jobs = await deps.records.getMany(batch.jobIds);
      if (first) deps.logger.info({ batch_id: batch.id, jobs: jobs.length }, 'batch completed');
      // also when a crashed run had already marked it: the event's id is fixed, so it is not sent twice
      await deps.onCompleted(completed, jobs);
    },
    { connection, prefix },
  );
}
