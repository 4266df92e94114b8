import type { Queue } from 'bullmq';
import type { Redis } from '../infra/redis.ts';
import { newId } from '../infra/ids.ts';
import { TERMINAL_STATUSES, type JobRecord, type JobRecords, type WebhookEvent } from '../jobs/job-record.ts';
import { BATCH_COMPLETION, TERMINAL_EVENT, WEBHOOK_STATUS } from '../jobs/job-lifecycle.ts';
import { jobView } from '../jobs/job-view.ts';
import type { Logger } from '../infra/logger.ts';
import {
  batchEventId,
  jobEventId,
  PROGRESS_WINDOW_MS,
  type JobEventType,
  type WebhookEventRecord,
  type WebhookJobData,
} from './events.ts';
import { jittered } from './schedule.ts';
import type { WebhookStore } from './store.ts';

export interface WebhookEmitterDeps {
  redis: Redis;
  prefix: string;
  records: JobRecords;
  store: WebhookStore;
  queue: Pick<Queue<WebhookJobData>, 'add'>;
  /** base of the URLs inside payloads, as GET shows them */
  baseUrl: string;
  /** WEBHOOK_RETRY_SCHEDULE, in seconds: its length is the number of attempts */
  retrySchedule: readonly number[];
  logger: Logger;
}

/** Whether a job asked for this event type (and has somewhere to send it). */
export function wantsEvent(record: Pick<JobRecord, 'webhookUrl' | 'webhookEvents'>, type: WebhookEvent): boolean {
  return Boolean(record.webhookUrl) && record.webhookEvents.includes(type);
}

export interface BatchEventInput {
  tenant: string;
  batchId: string;
  /** the batch exactly as GET returns it */
  data: unknown;
  /** where the batch's webhooks go; nothing is sent without one */
  url: string | undefined;
  /** the batch's webhook_events; nothing is sent unless it holds 'batch.completed' */
  events: readonly string[];
}

/**
 * Turns job (and batch) changes into webhook deliveries. Called right after
 * a successful status transition; builds the payload from the record as it
 * is then (the job as GET returns it) and enqueues one delivery job per
 * event, whose BullMQ id is the event id. The ids are deterministic
 * (events.ts), so emitting the same event again (a resumed worker, a sweep)
 * enqueues nothing new. Emission never throws: a webhook must not fail a
 * render; an event lost to a crash between the transition and the enqueue is
 * re-emitted by `reconcileJobEvents` when the job is next looked at.
 */
export class WebhookEmitter {
  constructor(private readonly deps: WebhookEmitterDeps) {}

  /**
   * Emits a job event for the job as it is now, when it asked for that type.
   * Given the job's record (whose webhook settings never change), a job
   * without a webhook costs no Redis read. Returns the event id, if one was enqueued.
   */
  async emitJobEvent(type: Exclude<JobEventType, 'job.progress'>, job: string | Pick<JobRecord, 'id' | 'webhookUrl' | 'webhookEvents'>): Promise<string | undefined> {
    if (typeof job !== 'string' && !wantsEvent(job, type)) return undefined;
    const jobId = typeof job === 'string' ? job : job.id;
    return this.safely(type, jobId, async () => {
      const record = await this.deps.records.get(jobId);
      if (!record || !wantsEvent(record, type)) return undefined;
      // an event is only sent while the record still shows the status it is about
      if (record.status !== WEBHOOK_STATUS[type]) {
        this.deps.logger.info({ job_id: jobId, event: type, status: record.status }, 'job moved on before its webhook event was emitted; not sending it');
        return undefined;
      }
      return this.enqueueJobEvent(type, record);
    });
  }

  /**
   * A progress event, opt-in (`job.progress` in the job's webhook_events) and
   * at most one per job per PROGRESS_WINDOW_MS (a Redis SET NX PX shared by
   * every worker).
   */
  async emitJobProgress(job: Pick<JobRecord, 'id' | 'webhookUrl' | 'webhookEvents'>): Promise<string | undefined> {
    if (!wantsEvent(job, 'job.progress')) return undefined;
    return this.safely('job.progress', job.id, async () => {
      const key = `${this.deps.prefix}:webhooks:progress:${job.id}`;
      if ((await this.deps.redis.set(key, '1', 'PX', PROGRESS_WINDOW_MS, 'NX')) !== 'OK') return undefined;
      const record = await this.deps.records.get(job.id);
      if (!record || record.status !== WEBHOOK_STATUS['job.progress']) return undefined;
      return this.enqueueJobEvent('job.progress', record);
    });
  }

  /**
   * Enqueues the terminal event of a job that has ended (and asked for it).
   * Idempotent: the id is the one the transition's emission used, so this
   * only adds a delivery when that emission was lost (the process died
   * between the status write and the enqueue).
   */
  async reconcileJobEvents(recordOrId: JobRecord | string): Promise<string | undefined> {
    const id = typeof recordOrId === 'string' ? recordOrId : recordOrId.id;
    return this.safely('reconcile', id, async () => {
      const record = typeof recordOrId === 'string' ? await this.deps.records.get(recordOrId) : recordOrId;
      if (!record || !TERMINAL_STATUSES.has(record.status)) return undefined;
      const type = TERMINAL_EVENT[record.status];
      if (!type || !wantsEvent(record, type)) return undefined;
      return this.enqueueJobEvent(type, record);
    });
  }

  /**
   * `batch.completed` for a batch whose jobs have all ended: `data` is the
   * batch as GET returns it. One event per batch (`evt_<batch>_completed`),
   * however many times this is called. Returns the event id when enqueued.
   */
  async emitBatchEvent(batch: BatchEventInput): Promise<string | undefined> {
    const type = BATCH_COMPLETION.webhook;
    if (!batch.url || !batch.events.includes(type)) return undefined;
    const url = batch.url;
    return this.safely(type, batch.batchId, () =>
      this.enqueue({ id: batchEventId(batch.batchId), tenant: batch.tenant, type, url, batchId: batch.batchId }, batch.data),
    );
  }

  /** Sends a kept event again, with its original id and body, on the full retry schedule. */
  async redeliver(event: WebhookEventRecord): Promise<void> {
    await this.resend(event, 'redelivery');
  }

  /**
   * Sends the events held while the tenant's secret was lost, now that it
   * acknowledged the current one. Each is enqueued before
   * it leaves the held set, so a crash in between sends it twice (with its
   * one id, which receivers de-duplicate on) rather than never. Returns how many.
   */
  async releaseHeld(tenant: string): Promise<number> {
    const ids = await this.deps.store.held(tenant);
    for (const id of ids) {
      const event = await this.deps.store.event(id);
      if (event) await this.resend(event, 'released');
      await this.deps.store.unhold(tenant, id);
    }
    if (ids.length > 0) this.deps.logger.info({ tenant, events: ids.length }, 'held webhook events released');
    return ids.length;
  }

  /** A new delivery job for a kept event; a redelivery is sent even to a URL that answered 410 before. */
  private async resend(event: WebhookEventRecord, reason: 'redelivery' | 'released'): Promise<void> {
    const data = reason === 'redelivery' ? { event, redelivery: true } : { event };
    await this.deps.queue.add(event.type, data, { ...this.jobOptions(), jobId: `${event.id}-${reason}-${newId('r').slice(2)}` });
  }

  private enqueueJobEvent(type: JobEventType, record: JobRecord): Promise<string> {
    const event = { id: jobEventId(type, record), tenant: record.tenant, type, url: record.webhookUrl as string, jobId: record.id };
    return this.enqueue(event, jobView(record, this.deps.baseUrl));
  }

  private async enqueue(event: Omit<WebhookEventRecord, 'body' | 'createdAt'>, data: unknown): Promise<string> {
    const createdAt = new Date().toISOString();
    const body = JSON.stringify({ type: event.type, timestamp: createdAt, data });
    const kept = await this.deps.store.saveEvent({ ...event, body, createdAt });
    await this.deps.queue.add(kept.type, { event: kept }, { ...this.jobOptions(), jobId: kept.id });
    return kept.id;
  }

  private jobOptions() {
    const [first = 0] = this.deps.retrySchedule;
    return {
      attempts: this.deps.retrySchedule.length,
      backoff: { type: 'webhook-schedule' },
      delay: jittered(first * 1000),
      removeOnComplete: { age: this.deps.store.keepS },
      removeOnFail: { age: this.deps.store.keepS },
    };
  }

  private async safely(what: string, id: string, run: () => Promise<string | undefined>): Promise<string | undefined> {
    try {
      return await run();
    } catch (error) {
      this.deps.logger.error({ event: what, id, err: error }, 'could not enqueue a webhook event');
      return undefined;
    }
  }
}
