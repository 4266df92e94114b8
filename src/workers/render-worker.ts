import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { SupersededError, type BackendTokenKind } from '../shared/jobs/job-record.ts';
import { JOB_LIFECYCLE } from '../shared/jobs/job-lifecycle.ts';
import { metrics } from '../shared/infra/metrics/registry.ts';
import { QUEUE_METRICS } from '../shared/infra/queue-set.ts';
import { RENDER_QUEUE, type RenderJobData } from '../shared/infra/queues.ts';
import { AttemptRecord } from './attempt-record.ts';
import type { Cancellation } from './cancellation.ts';
import { classifyError, type ClassifyContext } from './classify.ts';
import { JobDeadline } from './job-deadline.ts';
import { runLifecycle, type LifecycleDeps } from './lifecycle.ts';
import { checkpointAfterSessionLoss } from './session-loss.ts';
import type { Wait } from './parking.ts';

export interface RenderWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  cancellation: Cancellation;
  /** BullMQ's lock and stall detection: how fast a crashed worker's job moves to another worker */
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** JOB_TIMEOUT_S */
  jobTimeoutS: number;
  /** what the error classification needs to know about the deployment, for a job whose session has this kind of token */
  classifyContext(token?: BackendTokenKind): Promise<ClassifyContext>;
}

/** A canceled job's render is stopped at the backend too, so it spends nothing more. */
async function cancelBackendRender(deps: LifecycleDeps, jobId: string): Promise<void> {
  const record = await deps.records.get(jobId);
  const { renderId, renderStartedAt, renderOutputUrl } = record?.checkpoint ?? {};
  if (!record || !renderId || !renderStartedAt || renderOutputUrl) return;
  await deps
    .backendFor(record.preset, () => record.checkpoint.sessionToken)((client) => client.cancelRender(renderId))
    .catch((error: unknown) => deps.logger.warn({ job_id: jobId, err: error }, 'could not cancel the render at the backend'));
}

/**
 * The BullMQ worker of the render queue. Each failed attempt is classified
 * once (classify.ts) and acted on: fail the job, retry with backoff, back
 * the whole queue off, or start over in a new session. A job canceled while
 * it runs is stopped through its AbortSignal and ends quietly.
 */
/**
 * BullMQ applies the rate limit a 429 sets (`worker.rateLimit`) only to a
 * worker that has a limiter: without one, another free slot takes the job
 * again at once. This limiter never limits by itself (no count reaches its
 * max); it only makes the 429's Retry-After hold every slot of every worker.
 */
const HONOUR_MANUAL_RATE_LIMIT = { max: Number.MAX_SAFE_INTEGER, duration: 1_000 };

export function createRenderWorker(deps: LifecycleDeps, options: RenderWorkerOptions): Worker<RenderJobData> {
  const process = async (bullJob: Job<RenderJobData>, token?: string, bullSignal?: AbortSignal) => {
    const { jobId } = bullJob.data;
    const attempt = bullJob.attemptsMade + 1;
    const current = await deps.records.get(jobId);
    const deadline = new JobDeadline(current?.startedAt, options.jobTimeoutS);
    const signal = options.cancellation.start(jobId, bullSignal ? AbortSignal.any([bullSignal, deadline.signal]) : deadline.signal);
    const owned = new AttemptRecord(deps.records, jobId, token ?? randomUUID(), current?.tenant);
    let waits: Wait | undefined;
    try {
      waits = await attemptJob(bullJob, owned, attempt, signal, deadline);
    } catch (error) {
      if (!(error instanceof SupersededError)) throw error;
      // BullMQ refuses to finish the job with this attempt's stale lock, so returning changes nothing either
      deps.logger.warn({ job_id: jobId, attempt }, 'another worker took this job over (this one lost its lock); this attempt stops without writing');
    } finally {
      deadline.clear();
      options.cancellation.finish(jobId);
      if (!waits && current) await releaseTenantPlace(owned, current.tenant);
    }
    if (!waits) return;
    // the job gives its slot back and waits, still queued, in BullMQ's delayed set; DelayedError uses up no attempt
    deps.logger.debug({ job_id: jobId, waits }, 'job waits for its turn without holding a worker slot');
    await deps.parking.park(bullJob, owned.owner, waits);
    throw new DelayedError();
  };

  /** Every way an attempt ends frees its tenant's running place (status changes away from running free it too) and wakes the tenant's next parked job. */
  const releaseTenantPlace = async (owned: AttemptRecord, tenant: string) => {
    if (deps.tenantMaxRunning <= 0) return;
    await owned.releaseRunning();
    await deps.parking.wake({ kind: 'tenant', tenant });
  };

  const attemptJob = async (bullJob: Job<RenderJobData>, owned: AttemptRecord, attempt: number, signal: AbortSignal, deadline: JobDeadline) => {
    const { jobId } = bullJob.data;
    try {
      return await runLifecycle(deps, owned, attempt, signal);
    } catch (error) {
      if (error instanceof SupersededError) throw error;
      const record = await deps.records.get(jobId);
      const where = { job_id: jobId, tenant: record?.tenant, stage: record?.stage, attempt };
      if (signal.aborted && record?.status === 'canceled') {
        deps.logger.info(where, 'job canceled while running');
        metrics.jobs.inc({ preset: record.preset, status: JOB_LIFECYCLE.cancel.metric });
        await cancelBackendRender(deps, jobId);
        await deps.webhooks.reconcileJobEvents(jobId); // in case the API stopped between the cancel and its webhook
        return undefined;
      }
      if (deadline.passed) await cancelBackendRender(deps, jobId);
      const outcome = deadline.passed ? { action: 'fail' as const, error: deadline.error() } : classifyError(error, await options.classifyContext(record?.checkpoint.sessionToken));
      const { error: failure } = outcome;
      deps.logger.warn({ ...where, action: outcome.action, code: failure.code, err: error }, 'job attempt failed');
      // BullMQ does not count a rate-limited run as an attempt; the job's data does, so 429s cannot loop for ever
      const spent = attempt + (bullJob.data.rateLimited ?? 0);
      const attempts = bullJob.opts.attempts ?? 1;
      if (outcome.action === 'back-off' && spent < attempts) {
        await owned.update({ error: failure.toInfo() });
        await bullJob.updateData({ ...bullJob.data, rateLimited: (bullJob.data.rateLimited ?? 0) + 1 });
        await worker.rateLimit(outcome.delayMs);
        throw Worker.RateLimitError();
      }
      if (outcome.action === 'new-session') {
        if (record?.batchId && record.checkpoint.sessionId) await deps.batchSessions.forget(record.batchId, record.checkpoint.sessionId);
        if (record) await owned.checkpoint(record.checkpoint, checkpointAfterSessionLoss(record.checkpoint));
      }
      if (outcome.action === 'fail' || spent >= attempts) {
        const failed = await owned.transition('fail', { error: failure.toInfo(), finishedAt: new Date().toISOString() });
        if (failed) {
          deps.logger.error({ ...where, code: failure.code }, 'job failed');
          metrics.jobs.inc({ preset: record?.preset ?? 'unknown', status: JOB_LIFECYCLE.fail.metric });
          await deps.webhooks.emitJobEvent(JOB_LIFECYCLE.fail.webhook, record ?? jobId);
        }
        throw new UnrecoverableError(failure.message);
      }
      await owned.update({ error: failure.toInfo() });
      throw failure;
    }
  };
  const worker: Worker<RenderJobData> = new Worker<RenderJobData>(RENDER_QUEUE, process, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    metrics: QUEUE_METRICS,
    limiter: HONOUR_MANUAL_RATE_LIMIT,
  });
  // e.g. a lock that could not be renewed, or a finish refused for a lost lock
  worker.on('error', (error) => deps.logger.warn({ err: error }, 'render worker error'));
  return worker;
}
