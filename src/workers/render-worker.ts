import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { BackendError } from '../shared/errors.ts';
import { RENDER_QUEUE, type RenderJobData } from '../shared/queues.ts';
import { classifyError } from './classify.ts';
import { runLifecycle, type LifecycleDeps } from './lifecycle.ts';

export interface RenderWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
}

/** Checkpoints that belong to a backend session, dropped when the backend loses it (1002). */
const SESSION_SCOPED = { sessionId: undefined, uploaded: undefined, instruction: undefined, draft: undefined, renderId: undefined, renderStartedAt: undefined, renderOutputUrl: undefined };

/**
 * The BullMQ worker of the render queue. A retryable failure goes back to
 * BullMQ's backoff; a terminal one, or the last attempt, fails the job record
 * with a stable code.
 */
export function createRenderWorker(deps: LifecycleDeps, options: RenderWorkerOptions): Worker<RenderJobData> {
  const process = async (bullJob: Job<RenderJobData>, _token?: string, signal?: AbortSignal) => {
    const { jobId } = bullJob.data;
    const attempt = bullJob.attemptsMade + 1;
    try {
      await runLifecycle(deps, jobId, attempt, signal ?? new AbortController().signal);
    } catch (error) {
      const failure = classifyError(error);
      if (error instanceof BackendError && error.code === 1002) {
        const record = await deps.records.get(jobId);
        if (record) await deps.records.checkpoint(jobId, record.checkpoint, SESSION_SCOPED);
      }
      const lastAttempt = attempt >= (bullJob.opts.attempts ?? 1);
      deps.logger.warn({ job_id: jobId, attempt, code: failure.code, retryable: failure.retryable, err: error }, 'job attempt failed');
      if (!failure.retryable || lastAttempt) {
        await deps.records.update(jobId, { status: 'failed', error: failure.toInfo(), finishedAt: new Date().toISOString() });
        throw new UnrecoverableError(failure.message);
      }
      await deps.records.update(jobId, { error: failure.toInfo() });
      throw error;
    }
  };
  return new Worker<RenderJobData>(RENDER_QUEUE, process, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
}
