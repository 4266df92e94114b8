import type { BatchRecord } from './batch-record.ts';
import type { JobRecord, JobStatus } from './job-record.ts';
import { jobView, type JobView } from './job-view.ts';

export type BatchStatus = 'running' | 'succeeded' | 'failed' | 'partially_failed' | 'canceled';

export interface BatchView {
  id: string;
  status: BatchStatus;
  counts: Record<JobStatus, number>;
  metadata: Record<string, string>;
  webhook_url: string | null;
  created_at: string;
  completed_at: string | null;
  jobs: JobView[];
}

export function batchCounts(jobs: readonly JobRecord[]): Record<JobStatus, number> {
  const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
  for (const job of jobs) counts[job.status] += 1;
  return counts;
}

/** running while any job is; then what its jobs came to. */
export function batchStatus(batch: BatchRecord, counts: Record<JobStatus, number>): BatchStatus {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (counts.queued + counts.running > 0) return 'running';
  if (counts.succeeded === total) return 'succeeded';
  if (counts.failed === total) return 'failed';
  if (counts.failed === 0 && batch.canceledAt) return 'canceled';
  if (counts.canceled === total) return 'canceled';
  return 'partially_failed';
}

export function batchView(batch: BatchRecord, jobs: readonly JobRecord[], baseUrl: string): BatchView {
  const counts = batchCounts(jobs);
  return {
    id: batch.id,
    status: batchStatus(batch, counts),
    counts,
    metadata: batch.metadata,
    webhook_url: batch.webhookUrl ?? null,
    created_at: batch.createdAt,
    completed_at: batch.completedAt ?? null,
    jobs: jobs.map((job) => jobView(job, baseUrl)),
  };
}
