import type { BackendTokenKind, JobRecord, JobRecords } from '../shared/jobs/job-record.ts';
import { JOB_LIFECYCLE } from '../shared/jobs/job-lifecycle.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { metrics } from '../shared/infra/metrics/registry.ts';
import type { Preset } from '../shared/jobs/presets.ts';
import type { Storage } from '../shared/storage/storage.ts';
import type { WebhookEmitter } from '../shared/webhooks/emitter.ts';
import type { AttemptRecord } from './attempt-record.ts';
import type { BatchSessions } from './batch-session.ts';
import { HeldTurns, turnLocks } from './held-turns.ts';
import type { ParkedJobs, Wait } from './parking.ts';
import type { RenderCache } from './render-cache/render-cache.ts';
import type { BackendCall, Stage, StageContext, WorkerSettings } from './stage-context.ts';
import { connectStage } from './stages/connect.ts';
import { instructStage } from './stages/instruct.ts';
import { pollStage } from './stages/poll.ts';
import { renderStage } from './stages/render.ts';
import { storeStage } from './stages/store.ts';
import { uploadStage } from './stages/upload.ts';

export const STAGES: readonly Stage[] = [connectStage, uploadStage, instructStage, renderStage, pollStage, storeStage];

/** The share of the job's progress bar each step fills, in percent. */
const PROGRESS_SPAN: Record<Stage['step'], [number, number]> = {
  connect: [0, 5],
  upload: [5, 20],
  instruct: [20, 35],
  render: [35, 40],
  poll: [40, 92],
  store: [92, 99],
};

export interface LifecycleDeps {
  records: JobRecords;
  storage: Storage;
  logger: Logger;
  /** backend calls carrying the attribution of the job's preset, with the kind of token `pinned` names when it names one */
  backendFor(preset: Preset, pinned?: () => BackendTokenKind | undefined): BackendCall;
  settings: WorkerSettings;
  batchSessions: BatchSessions;
  /** parks a job that cannot start yet and wakes those waiting for what a job frees */
  parking: ParkedJobs;
  /** TENANT_MAX_RUNNING (0 = no limit) */
  tenantMaxRunning: number;
  /** job.started / job.progress / job.succeeded webhooks, enqueued right after the change */
  webhooks: Pick<WebhookEmitter, 'emitJobEvent' | 'emitJobProgress' | 'reconcileJobEvents'>;
  /** identical work served from earlier jobs' outputs (absent with RENDER_CACHE=false) */
  renderCache?: RenderCache;
}

/**
 * Drives one job through the stages, skipping those its checkpoint shows as
 * done, so a job picked up again resumes where it stopped. Every record write
 * goes through `record`, so it stops (SupersededError) once another attempt
 * owns the job. A job that cannot start yet (its session's turn is taken, or
 * its tenant runs TENANT_MAX_RUNNING jobs) is left queued, untouched, and
 * what it waits for is returned: the caller parks it (parking.ts) so it does
 * not hold the worker slot.
 */
export async function runLifecycle(deps: LifecycleDeps, record: AttemptRecord, attempt: number, signal: AbortSignal): Promise<Wait | undefined> {
  signal.throwIfAborted();
  const job = await deps.records.get(record.jobId);
  if (!job) {
    deps.logger.warn({ job_id: record.jobId }, 'no record for queued job; dropping it');
    return undefined;
  }
  const logger = deps.logger.child({ job_id: job.id, tenant: job.tenant, attempt });
  const turns = new HeldTurns(deps.batchSessions, (key) => deps.parking.wake({ kind: 'turn', key }), logger);
  // the locks of its first step are taken before the job starts, so a job that would wait for them is never shown running;
  // a job that ended meanwhile takes them too, and its release wakes the next waiter (a canceled batch's parked items end one after another);
  // a job the render cache served has its result and only has to succeed
  const first = job.checkpoint.servedFrom ? undefined : STAGES.find((stage) => !stage.done(job.checkpoint));
  const busy = first ? await turns.tryTake(turnLocks(deps.batchSessions, job, first.step)) : undefined;
  if (busy) return { kind: 'turn', key: busy };
  // the stage it starts in is written with the start, so a running job never shows the queued stage
  const started = await record.take({ startedAt: job.startedAt ?? new Date().toISOString(), attempts: job.attempts + 1, ...(first ? { stage: first.name } : {}) }, deps.tenantMaxRunning);
  if (started !== 'moved') await turns.releaseAll();
  if (started === 'tenant-busy') return { kind: 'tenant', tenant: job.tenant };
  if (started === 'refused') {
    logger.info({ status: job.status }, 'job is no longer runnable; skipping it');
    // a worker that died between a terminal status write and its webhook left the event unsent; the id makes this a no-op otherwise
    await deps.webhooks.reconcileJobEvents(job.id);
    return undefined;
  }
  await deps.webhooks.emitJobEvent(JOB_LIFECYCLE.start.webhook, job);

  try {
    // the cache is looked up only before any work at the backend (a resumed job does not repeat what it has done)
    const [storeFrom, storeTo] = PROGRESS_SPAN.store;
    const served =
      Boolean(job.checkpoint.servedFrom) || (first === STAGES[0] && (await deps.renderCache?.serve(stageContext(deps, record, job, logger, signal, storeFrom, storeTo))));
    for (const stage of served ? [] : STAGES) {
      if (stage.done(job.checkpoint)) continue;
      await turns.holdOnly(turnLocks(deps.batchSessions, job, stage.step), signal);
      const [from, to] = PROGRESS_SPAN[stage.step];
      await record.update({ stage: stage.name, progress: from });
      await deps.webhooks.emitJobProgress(job);
      logger.info({ stage: stage.name, step: stage.step }, 'stage started');
      const started = performance.now();
      await stage.run(stageContext(deps, record, job, logger, signal, from, to));
      const ms = performance.now() - started;
      metrics.stageSeconds.observe({ stage: stage.step }, ms / 1000);
      logger.info({ stage: stage.name, step: stage.step, ms: Math.round(ms) }, 'stage finished');
    }
  } finally {
    await turns.releaseAll();
  }
  const succeeded = await record.transition('succeed', { finishedAt: new Date().toISOString() });
  logger.info({ stage: 'done', recorded: succeeded }, succeeded ? 'job succeeded' : 'job finished after it was canceled');
  if (succeeded) metrics.jobs.inc({ preset: job.preset, status: JOB_LIFECYCLE.succeed.metric });
  if (succeeded) await deps.renderCache?.remember(job, logger);
  if (succeeded) await deps.webhooks.emitJobEvent(JOB_LIFECYCLE.succeed.webhook, job);
  else await deps.webhooks.reconcileJobEvents(job.id);
  return undefined;
}

function stageContext(deps: LifecycleDeps, record: AttemptRecord, job: JobRecord, logger: Logger, signal: AbortSignal, from: number, to: number): StageContext {
  let shown = from;
  return {
    job,
    record,
    storage: deps.storage,
    logger,
    // the session belongs to the account of the token it was made with
    backend: deps.backendFor(job.preset, () => job.checkpoint.sessionToken),
    settings: deps.settings,
    batchSessions: deps.batchSessions,
    signal,
    async progress(fraction) {
      const value = Math.round(from + (to - from) * Math.min(1, Math.max(0, fraction)));
      if (value <= shown) return;
      shown = value;
      await record.update({ progress: value });
      await deps.webhooks.emitJobProgress(job);
    },
    async checkpoint(patch) {
      job.checkpoint = await record.checkpoint(job.checkpoint, patch);
    },
  };
}
