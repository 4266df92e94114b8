import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import { checkCallbackUrl, UrlForbiddenError } from '../../shared/net/address-policy.ts';
import type { JobRecord, JobRecords } from '../../shared/jobs/job-record.ts';
import { JOB_LIFECYCLE } from '../../shared/jobs/job-lifecycle.ts';
import type { RenderJobData } from '../../shared/infra/queues.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import type { Claim, Idempotency } from './idempotency.ts';
import type { JobIntake } from './job-intake.ts';
import { DEFAULT_WEBHOOK_EVENTS } from '../http/schemas/jobs.ts';
import { checkPlatformRules, type PlatformViolation } from '../../shared/jobs/platforms.ts';
import { repeatedOutputs, type JobOptions } from '../../shared/jobs/job-options.ts';

/** TENANT_MAX_QUEUED and QUEUE_MAX_WAITING (0 = no limit). */
export interface QueueLimits {
  tenantMaxQueued: number;
  queueMaxWaiting: number;
}

/** 422 platform_constraint: the first broken rule as `rule`, `value`, `limit`; all of them in `violations`. */
export function platformProblem(violations: readonly [PlatformViolation, ...PlatformViolation[]], path: string): ProblemError {
  const [first] = violations;
  return new ProblemError('platform_constraint', 'Breaks a platform rule', `${path}: ${violations.map((v) => v.message).join('; ')} (docs/platforms.md)`, {
    platform: first.platform,
    rule: first.rule,
    value: first.value,
    limit: first.limit,
    violations,
  });
}

/** Seconds a client refused by a queue limit is asked to wait. */
export const QUEUE_RETRY_AFTER_S = 30;

/** The 429 (tenant's limit) or 503 (queue's limit) of a submission a limit refused, with Retry-After. */
export function queueLimitProblem(refused: 'tenant_queue_full' | 'queue_full', limits: QueueLimits): ProblemError {
  const problem =
    refused === 'tenant_queue_full'
      ? new ProblemError(refused, 'Too many queued jobs', `This tenant already has ${limits.tenantMaxQueued} jobs queued (TENANT_MAX_QUEUED); try again once some have started.`)
      : new ProblemError(refused, 'Queue full', `The render queue holds ${limits.queueMaxWaiting} waiting jobs (QUEUE_MAX_WAITING); try again shortly.`);
  problem.retryAfterS = QUEUE_RETRY_AFTER_S;
  return problem;
}

export interface Submitted {
  record: JobRecord;
  /** an earlier request with the same Idempotency-Key made this job */
  replayed: boolean;
  /** a new job's place in the queue when it was added */
  queuePosition?: number;
}

const REPLAY_WAIT_MS = 5000;

/**
 * Turns an accepted request into a job: the record, then the queue entry.
 * With an Idempotency-Key the first request wins; its duplicates get its job.
 */
export class JobSubmission {
  constructor(
    private readonly records: JobRecords,
    private readonly queue: Pick<Queue<RenderJobData>, 'add'>,
    private readonly idempotency: Idempotency,
    private readonly storage: Storage,
    private readonly urlAllowlist: readonly string[],
    readonly limits: QueueLimits = { tenantMaxQueued: 0, queueMaxWaiting: 0 },
  ) {}

  /** 503 queue_full when the render queue holds QUEUE_MAX_WAITING waiting jobs (for what enqueues without a new record: a retry). */
  async checkQueueRoom(): Promise<void> {
    if (this.limits.queueMaxWaiting > 0 && (await this.records.waitingJobs()) >= this.limits.queueMaxWaiting) throw queueLimitProblem('queue_full', this.limits);
  }

  /** Refuses options that break their platform's rules (422 platform_constraint). */
  checkPlatform(options: JobOptions, path = 'body.options'): void {
    const [first, ...rest] = checkPlatformRules(options);
    if (first) throw platformProblem([first, ...rest], path);
  }

  /** Refuses renditions asked for twice (422 invalid_outputs). */
  checkOutputs(options: JobOptions, path = 'body.options'): void {
    const duplicates = repeatedOutputs(options);
    if (duplicates.length === 0) return;
    throw new ProblemError('invalid_outputs', 'Repeated rendition', `${path}.outputs: ${duplicates.map((n) => `item ${n}`).join(', ')} repeats an earlier rendition (the same aspect ratio, resolution and format).`, { duplicates });
  }

  /** Refuses a webhook URL this service will not call (400). */
  checkWebhookUrl(url: string | undefined, path = 'body.webhook_url'): void {
    if (!url) return;
    try {
      checkCallbackUrl(url, this.urlAllowlist);
    } catch (error) {
      if (!(error instanceof UrlForbiddenError)) throw error;
      throw new ProblemError('validation_failed', 'Invalid request', `${path}: ${error.message}`, { errors: [{ path, message: error.message }] });
    }
  }

  /** The record of a new job, queued. */
  buildRecord(tenant: string, id: string, intake: JobIntake, extra: Partial<JobRecord> = {}): JobRecord {
    const { fields } = intake;
    return {
      id,
      tenant,
      status: JOB_LIFECYCLE.submit.to,
      stage: JOB_LIFECYCLE.submit.sets.stage,
      progress: 0,
      preset: fields.preset,
      prompt: fields.prompt,
      options: fields.options,
      inputs: intake.inputs,
      createdAt: new Date().toISOString(),
      attempts: 0,
      checkpoint: {},
      metadata: fields.metadata,
      priority: fields.priority ?? 'normal',
      webhookUrl: fields.webhook_url,
      webhookEvents: fields.webhook_events ?? [...DEFAULT_WEBHOOK_EVENTS],
      template: intake.template,
      ...extra,
    };
  }

  /**
   * Claims an Idempotency-Key for a new resource. Undefined: go ahead and
   * create it; otherwise the id of what an earlier request created (a 409
   * is thrown when that request had another body).
   */
  async claimKey(tenant: string, idempotencyKey: string | undefined, canonicalBody: string, newId: string): Promise<string | undefined> {
    if (!idempotencyKey) return undefined;
    const claim = await this.idempotency.claim(tenant, idempotencyKey, canonicalBody, newId);
    return claim.kind === 'new' ? undefined : replayedId(claim);
  }

  async releaseKey(tenant: string, idempotencyKey: string | undefined): Promise<void> {
    if (idempotencyKey) await this.idempotency.release(tenant, idempotencyKey);
  }

  /**
   * Two round trips: the record with its Idempotency-Key claim (nothing is
   * written when the key is taken), then the queue entry, which must not
   * exist without the record. A record left without its entry (this process
   * died between the two) is enqueued by the watchdog (queue-repair.ts).
   */
  async submit(tenant: string, id: string, intake: JobIntake, idempotencyKey?: string, extra: Partial<JobRecord> = {}): Promise<Submitted> {
    this.checkWebhookUrl(intake.fields.webhook_url);
    try {
      this.checkPlatform(intake.fields.options);
      this.checkOutputs(intake.fields.options);
    } catch (error) {
      await this.storage.remove(`inputs/${id}`);
      throw error;
    }
    const record = this.buildRecord(tenant, id, intake, extra);
    const claim = idempotencyKey ? this.idempotency.recordClaim(tenant, idempotencyKey, intake.canonicalBody, id) : undefined;
    const outcome = await this.records.create(record, claim, { ...this.limits, reserve: 1 }).catch(async (error: unknown) => {
      await this.storage.remove(`inputs/${id}`);
      throw error;
    });
    if (!outcome.created && 'refused' in outcome) {
      await this.storage.remove(`inputs/${id}`);
      throw queueLimitProblem(outcome.refused, this.limits);
    }
    if (!outcome.created) {
      await this.storage.remove(`inputs/${id}`);
      const earlier = replayedId(this.idempotency.earlier(outcome.claimedBy, intake.canonicalBody));
      return { record: await written(() => this.records.get(earlier)), replayed: true };
    }
    try {
      await this.queue.add('render', { jobId: id }, { jobId: id, priority: outcome.queuePriority });
    } catch (error) {
      await this.releaseKey(tenant, idempotencyKey);
      throw error;
    }
    return { record, replayed: false, queuePosition: outcome.waitingAhead };
  }
}

/** The id an Idempotency-Key already names, or a 409 when it was used with another body. */
function replayedId(claim: Exclude<Claim, { kind: 'new' }>): string {
  if (claim.kind === 'conflict') {
    throw new ProblemError('idempotency_conflict', 'Idempotency key reused', `This Idempotency-Key was used for ${claim.jobId} with a different request body.`);
  }
  return claim.jobId;
}

/** What a concurrent duplicate request is creating, once it is written. */
export async function written<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let waited = 0; waited < REPLAY_WAIT_MS; waited += 25) {
    const found = await read();
    if (found) return found;
    await sleep(25);
  }
  throw new ProblemError('idempotency_conflict', 'Request in progress', 'A request with this Idempotency-Key is still being processed; retry shortly.');
}
