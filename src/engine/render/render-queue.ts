import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Logger } from '../../shared/infra/logger.ts';
import type { Redis } from '../../shared/infra/redis.ts';
import type { RenderStore } from '../store/engine-store.ts';
import { isFinished, type RenderJob } from '../store/renders.ts';
import { CANCELED, runRender, type RenderRunnerDeps } from './render-runner.ts';

/** The engine's render queue, under ENGINE_REDIS_PREFIX: its wait list `<prefix>:renders:wait` is what an autoscaler watches (no priorities). */
export const ENGINE_RENDER_QUEUE = 'renders';
/**
 * An active render's lock, renewed every half of it. An engine that dies
 * (SIGKILL) stops renewing; within LOCK_MS plus one STALLED_CHECK_MS another
 * engine's stalled check puts the render back in the queue and an engine
 * renders it again. A second stall fails it: at most one re-render.
 */
export const RENDER_LOCK_MS = 5_000;
export const STALLED_CHECK_MS = 2_000;
const MAX_STALLED = 1;
/** the reason an engine that shuts down stops its renders: they go back to the queue, not to failed */
const SHUTDOWN = 'shutdown';

interface RenderJobData {
  renderId: string;
}

/** BullMQ job ids may not be integers; render ids may be. */
const jobIdOf = (renderId: string) => `render-${renderId}`;

export interface RenderQueueOptions extends Omit<RenderRunnerDeps, 'renders'> {
  renders: RenderStore;
  /** a new connection (queue, worker and cancel subscriber each need their own) */
  connect: () => Redis;
  /** a connection cancels are published on */
  publisher: Redis;
  prefix: string;
  cancelChannel: string;
  concurrency: number;
  /** told when a render has ended (its output now takes disk space) */
  onSettled: () => void;
}

/**
 * Renders as BullMQ jobs: every engine process adds the renders it accepts
 * and runs `concurrency` of the queue's renders, whichever engine accepted
 * them; the render record in the store carries status and progress. A cancel
 * is published to every engine: the one running it kills its ffmpeg.
 */
export class RenderQueue {
  private readonly queue: Queue<RenderJobData>;
  private readonly worker: Worker<RenderJobData>;
  private readonly subscriber: Redis;
  private readonly running = new Map<string, AbortController>();

  private constructor(private readonly options: RenderQueueOptions) {
    const { prefix } = options;
    this.queue = new Queue<RenderJobData>(ENGINE_RENDER_QUEUE, { connection: options.connect(), prefix });
    this.worker = new Worker<RenderJobData>(ENGINE_RENDER_QUEUE, (job, token) => this.process(job, token), {
      connection: options.connect(),
      prefix,
      concurrency: options.concurrency,
      lockDuration: RENDER_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLED,
      autorun: false,
    });
    this.worker.on('error', (error) => options.logger.warn({ err: error }, 'render queue worker error'));
    this.worker.on('stalled', (jobId) => void this.afterStall(jobId));
    // a render whose processing threw (e.g. Redis gone mid-way) is not left processing for ever
    this.worker.on('failed', (job, error) => {
      if (job) void options.renders.finish(job.data.renderId, { status: 'failed', error: `render failed: ${error.message}` }).catch(() => undefined);
    });
    this.subscriber = options.connect();
  }

  static async start(options: RenderQueueOptions): Promise<RenderQueue> {
    const renders = new RenderQueue(options);
    renders.subscriber.on('message', (_channel: string, renderId: string) => renders.running.get(renderId)?.abort(CANCELED));
    await renders.subscriber.subscribe(options.cancelChannel);
    void renders.worker.run();
    await renders.worker.waitUntilReady();
    return renders;
  }

  /** Queues an accepted render, after `delayMs` (the render-delay fault; a delayed render is not in the wait list). */
  async enqueue(renderId: string, delayMs = 0): Promise<void> {
    await this.queue.add('render', { renderId }, { jobId: jobIdOf(renderId), delay: delayMs, removeOnComplete: true, removeOnFail: { age: 3600 } });
  }

  /** Ends a render that has not ended as canceled and stops it wherever it is; false when it had ended. */
  async cancel(render: RenderJob): Promise<boolean> {
    if (!(await this.options.renders.finish(render.id, { status: 'failed', error: CANCELED }))) return false;
    // a waiting or delayed render leaves the queue; a running one is locked, and stopped by the message
    await Promise.all([this.queue.remove(jobIdOf(render.id)).catch(() => 0), this.options.publisher.publish(this.options.cancelChannel, render.id)]);
    return true;
  }

  /** Stops taking renders; the ones running here go back to the queue for another engine (or this one, restarted). */
  async close(): Promise<void> {
    const closed = this.worker.close();
    for (const abort of this.running.values()) abort.abort(SHUTDOWN);
    await closed;
    await this.queue.close();
    this.subscriber.disconnect();
  }

  private async process(job: Job<RenderJobData>, token?: string): Promise<void> {
    const { renders, logger } = this.options;
    const render = await renders.get(job.data.renderId);
    if (!render || isFinished(render)) return;
    if (job.attemptsStarted > 1 || render.status === 'processing') logger.warn({ renderId: render.id }, 'render taken over after its engine stopped');
    const abort = new AbortController();
    this.running.set(render.id, abort);
    try {
      const outcome = await runRender(render, this.options, abort);
      if (outcome === 'aborted' && abort.signal.reason === SHUTDOWN) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
    } finally {
      this.running.delete(render.id);
      this.options.onSettled();
    }
  }

  /** A render stalled a second time has failed in BullMQ: its record says so. */
  private async afterStall(jobId: string): Promise<void> {
    const state = await this.queue.getJobState(jobId).catch(() => 'unknown');
    const renderId = jobId.replace(/^render-/, '');
    if (state === 'failed') {
      await this.options.renders.finish(renderId, { status: 'failed', error: 'render lost: the engines rendering it stopped twice' });
      this.options.logger.error({ renderId }, 'render failed: stalled twice');
    } else this.options.logger.warn({ renderId }, 'render stalled (its engine stopped); queued again');
  }
}
