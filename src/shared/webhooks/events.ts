import { Queue, type ConnectionOptions } from 'bullmq';
import type { Config } from '../infra/config.ts';
import type { JobRecord, WebhookEvent } from '../jobs/job-record.ts';

/** The BullMQ queue webhook deliveries run in, apart from renders. */
export const WEBHOOK_QUEUE = 'webhooks';

/** How long events, delivery attempts and finished delivery jobs are kept (HISTORY_DAYS instead, when shorter). */
export const WEBHOOK_RETENTION_S = 7 * 24 * 3600;

export type JobEventType = Exclude<WebhookEvent, 'batch.completed'>;

/** An event as it is kept (for redelivery) and carried by its delivery job. */
export interface WebhookEventRecord {
  /** `webhook-id`: the same on every attempt and redelivery */
  id: string;
  tenant: string;
  type: WebhookEvent;
  url: string;
  /** the exact bytes POSTed on every attempt: `{"type","timestamp","data"}` */
  body: string;
  jobId?: string;
  batchId?: string;
  createdAt: string;
}

/** What a delivery job carries: the event, and whether it was asked for again by the client. */
export interface WebhookJobData {
  event: WebhookEventRecord;
  /** a redelivery: sent even to a URL that answered 410 before (a success clears the mark) */
  redelivery?: boolean;
}

/** The base of the URLs inside payloads (video_url, poster_url): PUBLIC_URL, else the API's own address. */
export function webhookBaseUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

function idSuffix(id: string): string {
  return id.slice(id.indexOf('_') + 1);
}

/** A job's progress events: at most one per this window (and one id per window). */
export const PROGRESS_WINDOW_MS = 2000;

/**
 * Event ids are derived from the record, never random, so that emitting the
 * same event twice (a worker that crashed after the status write and resumed,
 * a sweep, a retry) enqueues one delivery: the id is the delivery job's id.
 *
 * - `evt_<job>_succeeded`: a job succeeds once.
 * - `evt_<job>_failed_<attempts>_<finishedAt ms>` and `…_canceled_…`: a job
 *   retried by its client can fail or be canceled again, as a new event.
 * - `evt_<job>_started_<attempts>`: once per pickup by a worker.
 * - `evt_<job>_progress_<attempts>_<2 s window>`.
 * - `evt_<batch>_completed`.
 */
export function jobEventId(type: JobEventType, record: Pick<JobRecord, 'id' | 'attempts' | 'finishedAt'>, now = Date.now()): string {
  const job = idSuffix(record.id);
  const finished = record.finishedAt ? Date.parse(record.finishedAt) : 0;
  switch (type) {
    case 'job.succeeded':
      return `evt_${job}_succeeded`;
    case 'job.failed':
      return `evt_${job}_failed_${record.attempts}_${finished}`;
    case 'job.canceled':
      return `evt_${job}_canceled_${record.attempts}_${finished}`;
    case 'job.started':
      return `evt_${job}_started_${record.attempts}`;
    case 'job.progress':
      return `evt_${job}_progress_${record.attempts}_${Math.floor(now / PROGRESS_WINDOW_MS)}`;
  }
}

export function batchEventId(batchId: string): string {
  return `evt_${idSuffix(batchId)}_completed`;
}

export function createWebhookQueue(connection: ConnectionOptions, prefix: string): Queue<WebhookJobData> {
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix });
}
