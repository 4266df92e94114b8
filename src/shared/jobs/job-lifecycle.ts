/**
 * The job's lifecycle, declared once: its statuses, the events that move it,
 * and what each event emits. Status writes go through `JobRecords.transition`,
 * which takes an event's `from` set as its compare-and-set and refuses (and
 * logs) an event the record's status does not allow.
 */

/** What a client branches on. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** What a progress bar shows. */
export const JOB_STAGES = ['queued', 'connecting', 'uploading', 'instructing', 'rendering', 'storing', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

const ENDED = ['succeeded', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(ENDED);

export const WEBHOOK_EVENTS = ['job.started', 'job.progress', 'job.succeeded', 'job.failed', 'job.canceled', 'batch.completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The record fields a status write may clear. */
type ResetField = 'error' | 'finishedAt' | 'startedAt';

export interface JobTransition {
  /** the statuses the event applies in ([] for submit: there is no record yet); an expired job takes no event */
  readonly from: readonly JobStatus[];
  /** the status afterwards; 'unchanged' for an event that does not write it */
  readonly to: JobStatus | 'unchanged';
  /**
   * how the record is written: `transition` (the status compare-and-set),
   * `create` (the new record), `update` (a running attempt's fenced write,
   * not checked against the status), `expire` (marks `expiredAt`), or
   * `none` (a check on the record before something else is written)
   */
  readonly write: 'transition' | 'create' | 'update' | 'expire' | 'none';
  /** the webhook event emitted right after it */
  readonly webhook?: WebhookEvent;
  /** the `status` label of i2v_jobs_total the worker running the job counts it under */
  readonly metric?: JobStatus;
  /** record fields the event sets */
  readonly sets?: { readonly stage?: JobStage; readonly progress?: number };
  /** record fields the event deletes */
  readonly clears?: readonly ResetField[];
}

export const JOB_LIFECYCLE = {
  /** the API writes the record (a revision is submitted like any job) */
  submit: { from: [], to: 'queued', write: 'create', sets: { stage: 'queued' } },
  /** an attempt takes the job; from running too: a crashed worker's job taken over */
  start: { from: ['queued', 'running'], to: 'running', write: 'transition', webhook: 'job.started' },
  /** each stage of the lifecycle begins or reports progress */
  stage: { from: ['running'], to: 'running', write: 'update', webhook: 'job.progress' },
  succeed: { from: ['running'], to: 'succeeded', write: 'transition', webhook: 'job.succeeded', metric: 'succeeded', sets: { stage: 'done', progress: 100 } },
  /** the attempt's error is terminal, or its attempts are spent */
  fail: { from: ['queued', 'running'], to: 'failed', write: 'transition', webhook: 'job.failed', metric: 'failed' },
  /** the watchdog fails a running job whose worker vanished (`worker_lost`) */
  lose: { from: ['running'], to: 'failed', write: 'transition', webhook: 'job.failed' },
  /** the API cancels it; the worker that was running it counts the metric */
  cancel: { from: ['queued', 'running'], to: 'canceled', write: 'transition', webhook: 'job.canceled', metric: 'canceled' },
  /** the client runs it again, from its last checkpoint (the checkpoint is kept) */
  retry: { from: ['failed', 'canceled'], to: 'queued', write: 'transition', sets: { stage: 'queued' }, clears: ['error', 'finishedAt', 'startedAt'] },
  /** a revision of the job is asked for (the parent is left as it is) */
  revise: { from: ['succeeded'], to: 'unchanged', write: 'none' },
  /** retention deletes its files; afterwards the job never changes status again */
  expire: { from: ENDED, to: 'unchanged', write: 'expire' },
} as const satisfies Record<string, JobTransition>;

export type JobEvent = keyof typeof JOB_LIFECYCLE;
export const JOB_EVENTS = Object.keys(JOB_LIFECYCLE) as JobEvent[];

/** The events written by the status compare-and-set (`JobRecords.transition`). */
export type StatusEvent = { [E in JobEvent]: (typeof JOB_LIFECYCLE)[E]['write'] extends 'transition' ? E : never }[JobEvent];

/** A batch's roll-up: once every item has ended (BullMQ runs the flow's parent), the batch completes once. */
export const BATCH_COMPLETION = { webhook: 'batch.completed' } as const satisfies { webhook: WebhookEvent };

/** Whether `event` applies to a job in `status` (not expired). */
export function allows(event: JobEvent, status: JobStatus): boolean {
  return (JOB_LIFECYCLE[event].from as readonly JobStatus[]).includes(status);
}

type JobEventType = Exclude<WebhookEvent, 'batch.completed'>;

/** The status a job's webhook event is about (the status its event moves to): it is sent only while the record shows it. */
export const WEBHOOK_STATUS = Object.fromEntries(
  Object.values(JOB_LIFECYCLE as Record<string, JobTransition>).flatMap((t) => (t.webhook && t.to !== 'unchanged' ? [[t.webhook, t.to]] : [])),
) as Record<JobEventType, JobStatus>;

/** The webhook event of each terminal status. */
export const TERMINAL_EVENT = Object.fromEntries(
  Object.entries(WEBHOOK_STATUS).filter(([, status]) => TERMINAL_STATUSES.has(status)).map(([event, status]) => [status, event]),
) as Record<string, Exclude<JobEventType, 'job.started' | 'job.progress'> | undefined>;
