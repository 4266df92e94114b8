import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Job } from 'bullmq';

type JobStatus = Parameters<BullMQAdapter['getJobs']>[0][number];
type JobCounts = Awaited<ReturnType<BullMQAdapter['getJobCounts']>>;

/**
 * Bull Board's view of a queue, with BullMQ's "prioritized" jobs shown as
 * waiting: every render job carries a priority (tenants take turns, see
 * bullPriority in src/shared/infra/queues.ts), so to an operator they are the
 * jobs waiting for a worker, not a state of their own.
 */
export class DashboardQueueAdapter extends BullMQAdapter {
  override async getJobCounts(): Promise<JobCounts> {
    const counts = await super.getJobCounts();
    return { ...counts, waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), prioritized: 0 };
  }

  override getJobs(statuses: JobStatus[], start?: number, end?: number): Promise<Job[]> {
    const asked = statuses.flatMap((status): JobStatus[] => (status === 'waiting' ? ['waiting', 'prioritized'] : status === 'prioritized' ? [] : [status]));
    return super.getJobs(asked, start, end);
  }

  override getJobStatuses(): JobStatus[] {
    return super.getJobStatuses().filter((status) => status !== 'prioritized');
  }
}
