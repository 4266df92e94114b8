import type { BackendTokenKind, JobRecord, JobRecords } from '../shared/jobs/job-record.ts';
import { JOB_LIFECYCLE } from '../shared/jobs/job-lifecycle.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { metrics } from '../shared/infra/metrics/registry.ts';
import type { Preset } from '../shared/jobs/presets.ts';
import type { Storage } from '../shared/storage/storage.ts';
import type { WebhookEmitter } from '../shared/webhooks/emitter.ts';
import type { AttemptRecord } from './attempt-record.ts';
import type { BatchSessions } from './batch-session.ts';
import type { BackendCall, Stage, StageContext, WorkerSettings } from './stage-context.ts';
import { connectStage } from './stages/connect.ts';
import { instructStage } from './stages/instruct.ts';
import { pollStage } from './stages/poll.ts';
import { renderStage } from './stages/render.ts';
import { storeStage } from './stages/store.ts';
import { uploadStage } from './stages/upload.ts';

export const STAGES: readonly Stage[] = [connectStage, uploadStage, instructStage, renderStage, pollStage, storeStage];

/**
 * The steps that work on a shared session's latest upload or current
 * timeline: one job of the session at a time.
 */
const SESSION_TURN: ReadonlySet<Stage['step']> = new Set(['upload', 'instruct']);

/** The turn lock a step of the job must hold: jobs of a batch share its session, revisions their parent's. */
function turnLock(sessions: BatchSessions, job: JobRecord, step: Stage['step']): string | undefined {
  if (step === 'connect') return job.batchId ? sessions.batchTurn(job.batchId) : undefined;
  const shared = job.batchId !== undefined || job.parentId !== undefined;
  return shared && SESSION_TURN.has(step) ? sessions.sessionTurn(job.checkpoint.sessionId as string) : undefined;
}

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
  /** job.started / job.progress / job.succeeded webhooks, enqueued right after the change */
  webhooks: Pick<WebhookEmitter, 'emitJobEvent' | 'emitJobProgress' | 'reconcileJobEvents'>;
}

/**
 * Drives one job through the stages, skipping those its checkpoint shows as
 * done, so a job picked up again resumes where it stopped. Every record write
 * goes through `record`, so it stops (SupersededError) once another attempt
 * owns the job.
 */
export async function runLifecycle(deps: LifecycleDeps, record: AttemptRecord, attempt: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const job = await deps.records.get(record.jobId);
  if (!job) {
    deps.logger.warn({ job_id: record.jobId }, 'no record for queued job; dropping it');
    return;
  }
  const logger = deps.logger.child({ job_id: job.id, tenant: job.tenant, attempt });
  const started = await record.take({
    startedAt: job.startedAt ?? new Date().toISOString(),
    attempts: job.attempts + 1,
  });
  if (!started) {
    logger.info({ status: job.status }, 'job is no longer runnable; skipping it');
    // a worker that died between a terminal status write and its webhook left the event unsent; the id makes this a no-op otherwise
    await deps.webhooks.reconcileJobEvents(job.id);
    return;
  }
  await deps.webhooks.emitJobEvent(JOB_LIFECYCLE.start.webhook, job);

  let turn: { key: string; end: () => Promise<void> } | undefined;
  try {
    for (const stage of STAGES) {
      if (stage.done(job.checkpoint)) continue;
      const key = turnLock(deps.batchSessions, job, stage.step);
      if (turn && turn.key !== key) {
        const { end } = turn;
        turn = undefined;
        await end();
      }
      if (key && !turn) turn = { key, end: await deps.batchSessions.takeTurn(key, signal) };
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
    await turn?.end();
  }
  const succeeded = await record.transition('succeed', { finishedAt: new Date().toISOString() });
  logger.info({ stage: 'done', recorded: succeeded }, succeeded ? 'job succeeded' : 'job finished after it was canceled');
  if (succeeded) metrics.jobs.inc({ preset: job.preset, status: JOB_LIFECYCLE.succeed.metric });
  if (succeeded) await deps.webhooks.emitJobEvent(JOB_LIFECYCLE.succeed.webhook, job);
  else await deps.webhooks.reconcileJobEvents(job.id);
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
