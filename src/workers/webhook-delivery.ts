import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { postGuarded, PostFailedError } from '../shared/media/fetch-guard.ts';
import { UrlForbiddenError } from '../shared/net/address-policy.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { metrics } from '../shared/infra/metrics/registry.ts';
import { QUEUE_METRICS } from '../shared/infra/queue-set.ts';
import { WEBHOOK_QUEUE, type WebhookEventRecord, type WebhookJobData } from '../shared/webhooks/events.ts';
import { retryAfterMs, scheduledDelayMs } from '../shared/webhooks/schedule.ts';
import { SecretLostError, type LostSecret, type WebhookSecrets } from '../shared/webhooks/secrets.ts';
import { webhookHeaders } from '../shared/webhooks/signing.ts';
import type { DeliveryStatus, WebhookStore } from '../shared/webhooks/store.ts';

export interface WebhookDeliveryDeps {
  store: WebhookStore;
  secrets: WebhookSecrets;
  logger: Logger;
  /** URL_FETCH_ALLOWLIST: what a webhook URL may resolve to although not public (and use http) */
  allowlist: readonly string[];
  /** WEBHOOK_RETRY_SCHEDULE in seconds */
  retrySchedule: readonly number[];
  timeoutMs: number;
}

export interface WebhookDeliveryOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency?: number;
}

/** Thrown to have BullMQ try the delivery again after `delayMs` (read by the backoff strategy). */
class RetryDelivery extends Error {
  override name = 'RetryDelivery';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

interface Outcome {
  status: DeliveryStatus;
  responseStatus?: number;
  error?: string;
  /** for a retryable failure: at least this long before the next attempt (Retry-After) */
  notBeforeMs?: number;
  retryable?: boolean;
}

/** What one answer (or its absence) means for the delivery. */
function outcomeOf(statusCode: number, headers: Record<string, string | string[] | undefined>): Outcome {
  if (statusCode >= 200 && statusCode < 300) return { status: 'delivered', responseStatus: statusCode };
  if (statusCode === 410) return { status: 'gone', responseStatus: statusCode, error: 'the receiver answered 410 Gone: nothing more is sent to this URL' };
  if (statusCode === 429) return { status: 'retrying', responseStatus: statusCode, error: 'HTTP 429', retryable: true, notBeforeMs: retryAfterMs(headers['retry-after']) };
  if (statusCode >= 500) return { status: 'retrying', responseStatus: statusCode, error: `HTTP ${statusCode}`, retryable: true };
  if (statusCode >= 300 && statusCode < 400) return { status: 'failed', responseStatus: statusCode, error: `HTTP ${statusCode}: redirects are not followed; use the final URL` };
  return { status: 'failed', responseStatus: statusCode, error: `HTTP ${statusCode}` };
}

/** What to do with an event whose tenant's secret is marked lost. */
type Hold = { held: LostSecret } | { released: true } | { send: true };

/**
 * Holds an event instead of signing it with a secret the tenant's receivers
 * cannot know. Added to the held set first, then the secret is read again:
 * an acknowledgement in between either released the event already (it is
 * sent by that release) or left it for this attempt to send.
 */
async function hold(deps: WebhookDeliveryDeps, event: WebhookEventRecord): Promise<Hold> {
  await deps.store.hold(event.tenant, event.id);
  const { lost } = await deps.secrets.current(event.tenant);
  if (lost) return { held: lost };
  return (await deps.store.unhold(event.tenant, event.id)) ? { send: true } : { released: true };
}

/**
 * Delivers webhook events, one BullMQ job per event (its id is the event
 * id). Each attempt is signed afresh (the attempt's timestamp is signed) with
 * the tenant's secrets, POSTed through the guarded fetcher (URL checked
 * again, DNS resolved and checked, connection pinned, no redirects, 10 s),
 * and recorded in the delivery log. 2xx: delivered. 410: the URL is marked
 * gone and nothing more is sent to it. 429 (honouring Retry-After), 5xx,
 * timeouts and network errors: tried again on WEBHOOK_RETRY_SCHEDULE. Any
 * other answer, or a forbidden URL: failed, not retried. While the tenant's
 * secret is marked lost (Redis lost its data), nothing is signed: the event
 * is held and sent once the tenant acknowledges the new secret.
 */
export function createWebhookDeliveryWorker(deps: WebhookDeliveryDeps, options: WebhookDeliveryOptions): Worker<WebhookJobData> {
  const process = async (job: Job<WebhookJobData>) => {
    const { event, redelivery } = job.data;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const base = { event_id: event.id, type: event.type, job_id: event.jobId ?? null, batch_id: event.batchId ?? null, url: event.url, attempt };
    const log = deps.logger.child({ event_id: event.id, event: event.type, job_id: event.jobId, tenant: event.tenant, attempt });

    if (!redelivery && (await deps.store.isGone(event.tenant, event.url))) {
      await deps.store.record(event.tenant, { ...base, status: 'skipped', response_status: null, duration_ms: null, error: 'this URL answered 410 Gone before; not sent', next_attempt_at: null });
      log.info('webhook not sent: the URL is gone');
      metrics.webhookDeliveries.inc({ outcome: 'skipped' });
      return 'skipped';
    }

    let secrets: string[];
    try {
      secrets = await deps.secrets.signing(event.tenant);
    } catch (error) {
      if (!(error instanceof SecretLostError)) throw error;
      const held = await hold(deps, event);
      if ('released' in held) return 'held';
      if ('held' in held) {
        const why = `webhook_secret_lost: the signing secret was lost with the service's Redis data (noticed ${held.held.detectedAt}); not sent until the tenant installs the new secret and acknowledges it (POST /v1/webhooks/secret/acknowledge)`;
        await deps.store.record(event.tenant, { ...base, status: 'held', response_status: null, duration_ms: null, error: why, next_attempt_at: null });
        log.warn({ code: 'webhook_secret_lost' }, 'webhook held: the tenant has not acknowledged the secret that replaced a lost one');
        metrics.webhookDeliveries.inc({ outcome: 'held' });
        return 'held';
      }
      secrets = await deps.secrets.signing(event.tenant);
    }
    const headers = webhookHeaders(event.id, event.body, secrets);
    const started = performance.now();
    let outcome: Outcome;
    try {
      const reply = await postGuarded(event.url, event.body, headers, { allowlist: deps.allowlist, timeoutMs: deps.timeoutMs });
      outcome = outcomeOf(reply.statusCode, reply.headers);
    } catch (error) {
      if (error instanceof UrlForbiddenError) outcome = { status: 'failed', error: `url_forbidden: ${error.message}` };
      else if (error instanceof PostFailedError) outcome = { status: 'retrying', error: error.message, retryable: true };
      else throw error;
    }
    const durationMs = Math.round(performance.now() - started);

    let nextDelayMs: number | undefined;
    if (outcome.retryable) {
      const scheduled = scheduledDelayMs(deps.retrySchedule, attempt + 1);
      if (scheduled === undefined || attempt >= attempts) {
        outcome = { ...outcome, status: 'failed', error: `${outcome.error}; gave up after ${attempt} attempts` };
      } else {
        nextDelayMs = Math.max(scheduled, outcome.notBeforeMs ?? 0);
      }
    }
    if (outcome.status === 'gone') await deps.store.markGone(event.tenant, event.url);
    if (outcome.status === 'delivered' && redelivery) await deps.store.clearGone(event.tenant, event.url);
    await deps.store.record(event.tenant, {
      ...base,
      status: outcome.status,
      response_status: outcome.responseStatus ?? null,
      duration_ms: durationMs,
      error: outcome.error ?? null,
      next_attempt_at: nextDelayMs === undefined ? null : new Date(Date.now() + nextDelayMs).toISOString(),
    });
    log.info({ status: outcome.status, response_status: outcome.responseStatus, ms: durationMs, retry_in_ms: nextDelayMs }, 'webhook attempt');
    metrics.webhookDeliveries.inc({ outcome: outcome.status });
    if (nextDelayMs !== undefined) throw new RetryDelivery(outcome.error ?? 'retry', nextDelayMs);
    return outcome.status;
  };

  return new Worker<WebhookJobData>(WEBHOOK_QUEUE, process, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 16,
    metrics: QUEUE_METRICS,
    settings: {
      // the delay was decided (and logged) by the attempt itself; an unexpected error (Redis) follows the schedule
      backoffStrategy: (attemptsMade, _type, err) =>
        err instanceof RetryDelivery ? err.delayMs : (scheduledDelayMs(deps.retrySchedule, attemptsMade + 1) ?? 0),
    },
  });
}
