import type { FlowProducer } from 'bullmq';
import stringify from 'safe-stable-stringify';
import type { BatchRecord, BatchRecords } from '../../shared/jobs/batch-record.ts';
import { newId } from '../../shared/infra/ids.ts';
import type { JobRecord, JobRecords } from '../../shared/jobs/job-record.ts';
import { batchFlow, type RetryPolicy } from '../../shared/infra/queues.ts';
import type { JobIntake } from './job-intake.ts';
import { queueLimitProblem, written, type JobSubmission } from './job-submission.ts';
import { DEFAULT_BATCH_WEBHOOK_EVENTS, type BatchFields } from '../http/schemas/batches.ts';

/**
 * A batch becomes one BullMQ flow, added atomically: a parent in the batches
 * queue that runs once every child (one render job per item) has ended. The
 * records are written first; should this process die before the flow is
 * added, the watchdog adds it (queue-repair.ts).
 */
export class BatchSubmission {
  constructor(
    private readonly jobs: JobSubmission,
    private readonly records: JobRecords,
    private readonly batches: BatchRecords,
    private readonly flows: Pick<FlowProducer, 'add'>,
    private readonly retry: RetryPolicy,
  ) {}

  /** `body`: the batch's fields with its items (or template and rows), all of it what an Idempotency-Key compares. */
  async submit(tenant: string, body: BatchFields, intakes: readonly JobIntake[], idempotencyKey?: string): Promise<{ batch: BatchRecord; replayed: boolean }> {
    this.jobs.checkWebhookUrl(body.webhook_url);
    intakes.forEach((intake, i) => this.jobs.checkWebhookUrl(intake.fields.webhook_url, `body.items.${i}.webhook_url`));
    intakes.forEach((intake, i) => {
      this.jobs.checkPlatform(intake.fields.options, `body.items.${i}.options`);
      this.jobs.checkOutputs(intake.fields.options, `body.items.${i}.options`);
    });
    const id = newId('bat');
    const earlier = await this.jobs.claimKey(tenant, idempotencyKey, stringify(body) ?? '', id);
    if (earlier) return { batch: await written(() => this.batches.get(earlier)), replayed: true };

    const jobs: JobRecord[] = intakes.map((intake) =>
      this.jobs.buildRecord(tenant, newId('job'), intake, { batchId: id, priority: intake.fields.priority ?? body.priority ?? 'normal' }),
    );
    const batch: BatchRecord = {
      id,
      tenant,
      jobIds: jobs.map((job) => job.id),
      createdAt: new Date().toISOString(),
      metadata: body.metadata,
      webhookUrl: body.webhook_url,
      webhookEvents: body.webhook_events ?? [...DEFAULT_BATCH_WEBHOOK_EVENTS],
    };
    try {
      // the first item's record counts the whole batch against the queue limits: all its items are written, or none
      const [first, ...rest] = jobs as [JobRecord, ...JobRecord[]];
      const outcome = await this.records.create(first, undefined, { ...this.jobs.limits, reserve: jobs.length });
      if (!outcome.created && 'refused' in outcome) throw queueLimitProblem(outcome.refused, this.jobs.limits);
      await this.batches.create(batch);
      // sent together: one round trip for the rest of the batch
      await Promise.all(rest.map((job) => this.records.create(job)));
      await this.flows.add(batchFlow(id, jobs, this.retry));
    } catch (error) {
      await this.jobs.releaseKey(tenant, idempotencyKey);
      throw error;
    }
    return { batch, replayed: false };
  }
}
