import type { Queue } from 'bullmq';

export interface QueueCounts {
  queue: string;
  /** jobs by BullMQ state: waiting, active, delayed, prioritized, waiting-children, completed, failed */
  counts: Record<string, number>;
}

/** Queues whose counts the `i2v_queue_jobs` gauge reports, by qualified name (prefix and name). */
const tracked = new Map<string, Set<Queue>>();

/**
 * Adds queues to the ones the gauge reads on each scrape; returns the undo.
 * The API and a worker in one process may both track a queue: it is read once.
 */
export function trackQueues(queues: readonly Queue[]): () => void {
  for (const queue of queues) {
    const holders = tracked.get(queue.qualifiedName) ?? new Set();
    holders.add(queue);
    tracked.set(queue.qualifiedName, holders);
  }
  return () => {
    for (const queue of queues) {
      const holders = tracked.get(queue.qualifiedName);
      holders?.delete(queue);
      if (holders?.size === 0) tracked.delete(queue.qualifiedName);
    }
  };
}

/** The job counts of each queue; a queue that cannot be read (Redis away) is left out rather than failing the whole read. */
export async function readQueueCounts(queues: readonly Queue[]): Promise<QueueCounts[]> {
  const results = await Promise.allSettled(queues.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts() })));
  return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

/** The counts of every tracked queue. */
export function readTrackedQueueCounts(): Promise<QueueCounts[]> {
  return readQueueCounts([...tracked.values()].map((holders) => holders.values().next().value as Queue));
}
