import type { Queue } from 'bullmq';

/**
 * Jobs of a queue that finished as `type` in the last `windowMinutes`, across
 * every worker, from BullMQ's per-minute metrics (recorded by workers started
 * with the `metrics` option). BullMQ keeps the running minute apart: its
 * count since `prevTS`, and one data point per earlier minute, newest first.
 */
export async function finishedInWindow(queue: Pick<Queue, 'getMetrics'>, type: 'completed' | 'failed', windowMinutes: number, now = Date.now()): Promise<number> {
  const { meta, data } = await queue.getMetrics(type, 0, windowMinutes - 1);
  if (!meta.prevTS) return 0;
  const minutesSinceLast = Math.floor(now / 60_000) - Math.floor(meta.prevTS / 60_000);
  let total = minutesSinceLast < windowMinutes ? meta.count - meta.prevCount : 0;
  data.forEach((finished, i) => {
    if (minutesSinceLast + 1 + i < windowMinutes) total += finished;
  });
  return total;
}
