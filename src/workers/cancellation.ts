import type { Redis } from '../shared/infra/redis.ts';

/**
 * Cancellations announced by any API process reach the worker running the
 * job: each running job has an AbortController, aborted when its id is
 * published on the cancel channel. The signal reaches undici (and so the
 * backend calls in flight).
 */
export class Cancellation {
  private readonly running = new Map<string, AbortController>();

  private constructor(private readonly subscriber: Redis) {}

  static async listen(subscriber: Redis, channel: string): Promise<Cancellation> {
    const cancellation = new Cancellation(subscriber);
    subscriber.on('message', (_channel: string, jobId: string) => cancellation.running.get(jobId)?.abort(new Error('canceled')));
    await subscriber.subscribe(channel);
    return cancellation;
  }

  /** A signal for a job this worker starts, aborted by a cancellation or by BullMQ's own signal. */
  start(jobId: string, bullSignal?: AbortSignal): AbortSignal {
    const controller = new AbortController();
    this.running.set(jobId, controller);
    return bullSignal ? AbortSignal.any([controller.signal, bullSignal]) : controller.signal;
  }

  /** Stops every job this worker runs (shutdown after its grace period); they are retried elsewhere from their checkpoints. */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort(new Error('worker shutting down'));
  }

  finish(jobId: string): void {
    this.running.delete(jobId);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
