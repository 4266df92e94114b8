import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { ProblemError } from '../shared/errors.ts';
import { checkCallbackUrl, UrlForbiddenError } from '../shared/fetch-guard.ts';
import type { JobRecord, JobRecords } from '../shared/job-record.ts';
import type { RenderJobData } from '../shared/queues.ts';
import type { Storage } from '../shared/storage.ts';
import { Idempotency } from './idempotency.ts';
import type { JobIntake } from './job-intake.ts';
import { DEFAULT_WEBHOOK_EVENTS } from './schemas/jobs.ts';

export interface Submitted {
  record: JobRecord;
  /** an earlier request with the same Idempotency-Key made this job */
  replayed: boolean;
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
  ) {}

  async submit(tenant: string, id: string, intake: JobIntake, idempotencyKey?: string): Promise<Submitted> {
    const { fields } = intake;
    if (fields.webhook_url) {
      try {
        checkCallbackUrl(fields.webhook_url, this.urlAllowlist);
      } catch (error) {
        if (!(error instanceof UrlForbiddenError)) throw error;
        throw new ProblemError(400, 'validation_failed', 'Invalid request', `webhook_url: ${error.message}`, {
          errors: [{ path: 'body.webhook_url', message: error.message }],
        });
      }
    }
    if (idempotencyKey) {
      const claim = await this.idempotency.claim(tenant, idempotencyKey, intake.bodyHash, id);
      if (claim.kind !== 'new') {
        await this.storage.remove(`inputs/${id}`);
        if (claim.kind === 'conflict') {
          throw new ProblemError(409, 'idempotency_conflict', 'Idempotency key reused', `This Idempotency-Key was used for job ${claim.jobId} with a different request body.`);
        }
        return { record: await this.existing(claim.jobId), replayed: true };
      }
    }
    const record: JobRecord = {
      id,
      tenant,
      status: 'queued',
      stage: 'queued',
      progress: 0,
      preset: fields.preset,
      prompt: fields.prompt,
      options: fields.options,
      inputs: intake.inputs,
      createdAt: new Date().toISOString(),
      attempts: 0,
      checkpoint: {},
      metadata: fields.metadata,
      webhookUrl: fields.webhook_url,
      webhookEvents: fields.webhook_events ?? [...DEFAULT_WEBHOOK_EVENTS],
    };
    try {
      await this.records.create(record);
      await this.queue.add('render', { jobId: id }, { jobId: id });
    } catch (error) {
      if (idempotencyKey) await this.idempotency.release(tenant, idempotencyKey);
      throw error;
    }
    return { record, replayed: false };
  }

  /** The job a concurrent duplicate is creating, once its record is written. */
  private async existing(jobId: string): Promise<JobRecord> {
    for (let waited = 0; waited < REPLAY_WAIT_MS; waited += 25) {
      const record = await this.records.get(jobId);
      if (record) return record;
      await sleep(25);
    }
    throw new ProblemError(409, 'idempotency_conflict', 'Request in progress', 'A request with this Idempotency-Key is still being processed; retry shortly.');
  }
}
