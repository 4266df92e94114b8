import type { BackendClient } from '../shared/backend/client.ts';
import type { BackendTokenKind, Checkpoint, JobRecord, JobStage } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import type { Storage } from '../shared/storage/storage.ts';
import type { AttemptRecord } from './attempt-record.ts';
import type { BatchSessions } from './batch-session.ts';

/** A backend call made with the job's kind of token, else the fleet's current one (refreshed on 1001); `call` learns which kind it got. */
export type BackendCall = <T>(call: (client: BackendClient, token: BackendTokenKind) => Promise<T>) => Promise<T>;

export interface WorkerSettings {
  pollIntervalMs: number;
  /** RENDER_TIMEOUT_S: a render still running this long after it started is replaced */
  renderTimeoutMs: number;
  urlFetchAllowlist: readonly string[];
  maxDownloadBytes: number;
  /** MAX_IMAGE_PIXELS: pictures declaring more are refused before they are decoded */
  maxImagePixels: number;
  /** INSTRUCTION_LANDING_WAIT_S: how long an instruction that was charged may take to show its edit */
  landingWaitMs: number;
}

/** What every stage gets: the job, its checkpoint, and the services to move it on. */
export interface StageContext {
  job: JobRecord;
  /** the job's record as this attempt writes it (refused once another attempt owns the job) */
  record: AttemptRecord;
  storage: Storage;
  logger: Logger;
  backend: BackendCall;
  settings: WorkerSettings;
  batchSessions: BatchSessions;
  signal: AbortSignal;
  /** records the stage's progress (0–1 within the stage) on the job */
  progress(fraction: number): Promise<void>;
  /** saves a stage's outcome before the next stage starts */
  checkpoint(patch: Checkpoint): Promise<void>;
}

export interface Stage {
  /** the lifecycle step, as logs name it */
  step: 'connect' | 'upload' | 'instruct' | 'render' | 'poll' | 'store';
  /** the stage a client sees while the step runs */
  name: Exclude<JobStage, 'queued' | 'done'>;
  /** true when the checkpoint shows the stage's work is already done */
  done(checkpoint: Checkpoint): boolean;
  run(context: StageContext): Promise<void>;
}
