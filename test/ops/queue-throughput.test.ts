import { describe, expect, it } from 'vitest';
import type { Metrics } from 'bullmq';
import { finishedInWindow } from '../../src/shared/infra/metrics/queue-throughput.ts';

const MINUTE = 60_000;
const NOW = Date.parse('2025-06-01T12:30:20Z');

/** BullMQ's metrics as Redis holds them: the running minute's count since prevTS, and one point per earlier minute, newest first. */
function recorded(meta: Metrics['meta'], data: number[]): { getMetrics(type: string, start: number, end: number): Promise<Metrics> } {
  return { getMetrics: async (_type, start, end) => ({ meta, data: data.slice(start, end + 1), count: data.length }) };
}

describe('jobs finished in the last hour, from BullMQ per-minute metrics', () => {
  it('is 0 when nothing was ever recorded', async () => {
    expect(await finishedInWindow(recorded({ count: 0, prevTS: 0, prevCount: 0 }, []), 'completed', 60, NOW)).toBe(0);
  });

  it('counts the running minute and the earlier minutes inside the window', async () => {
    // 4 jobs this minute; before it 2, 0, 5 …
    const queue = recorded({ count: 100, prevTS: NOW - 10_000, prevCount: 96 }, [2, 0, 5, ...Array(70).fill(1)]);
    // 4 + 2 + 0 + 5 + 56 minutes of 1 (minutes 4 to 59 ago)
    expect(await finishedInWindow(queue, 'completed', 60, NOW)).toBe(4 + 7 + 56);
    expect(await finishedInWindow(queue, 'completed', 1, NOW)).toBe(4);
  });

  it('shifts the points by the minutes since the last job finished', async () => {
    // the last job finished 58 minutes ago: its minute and one before it are still in the window
    const queue = recorded({ count: 10, prevTS: NOW - 58 * MINUTE, prevCount: 7 }, [6, 9, 9]);
    expect(await finishedInWindow(queue, 'completed', 60, NOW)).toBe(3 + 6);
    // an hour and more ago: nothing left
    expect(await finishedInWindow(recorded({ count: 10, prevTS: NOW - 61 * MINUTE, prevCount: 7 }, [6]), 'failed', 60, NOW)).toBe(0);
  });
});
