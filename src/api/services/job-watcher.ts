import type { Redis } from '../../shared/infra/redis.ts';
import { TERMINAL_STATUSES, type JobRecord, type JobRecords } from '../../shared/jobs/job-record.ts';

/**
 * Follows jobs across processes: workers announce every change of a job on
 * its Redis channel; one subscriber connection per API process fans the
 * announcements out to the requests that watch that job.
 */
export class JobWatcher {
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly records: JobRecords,
  ) {
    subscriber.on('message', (channel: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener();
    });
  }

  /** Calls `onChange` after every change of the job until the returned function is called. */
  async watch(jobId: string, onChange: () => void): Promise<() => void> {
    const channel = this.records.eventsChannel(jobId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        void this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** The job once it has ended, or undefined if it is still going after `timeoutMs`. */
  async waitUntilDone(jobId: string, timeoutMs: number): Promise<JobRecord | undefined> {
    let wake: () => void = () => {};
    const unwatch = await this.watch(jobId, () => wake());
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const changed = new Promise<void>((resolve) => (wake = resolve));
        const record = await this.records.get(jobId);
        if (record && TERMINAL_STATUSES.has(record.status)) return record;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
    } finally {
      unwatch();
    }
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
