import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../../shared/jobs/job-record.ts';
import { createJobBodySchema, jobSchema, metadataSchema } from './jobs.ts';
import { PRIORITY_CLASSES } from '../../../shared/infra/queues.ts';

/** What a batch's own webhook_url receives unless webhook_events says otherwise. */
export const DEFAULT_BATCH_WEBHOOK_EVENTS = ['batch.completed'] as const;

export const MAX_BATCH_ITEMS = 500;

/** A batch's own fields, whether its items are job bodies or the rows of a template. */
export const batchFieldsSchema = z.object({
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).optional().describe('Receives `batch.completed` once the last item has ended'),
  webhook_events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional().describe('Default `["batch.completed"]`; items send their own job events to their own webhook_url'),
  metadata: metadataSchema.default({}),
  priority: z.enum(PRIORITY_CLASSES).optional().describe('The priority of every item that does not set its own (default normal)'),
});

export type BatchFields = z.infer<typeof batchFieldsSchema>;

export const createBatchBodySchema = batchFieldsSchema
  .extend({ items: z.array(createJobBodySchema).min(1).max(MAX_BATCH_ITEMS).describe('One job body per product; each gets its own render') })
  .strict()
  .meta({ id: 'CreateBatch' });

export type CreateBatchBody = z.infer<typeof createBatchBodySchema>;

const counts = z.object({ queued: z.number().int(), running: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), canceled: z.number().int() });

export const batchSchema = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'succeeded', 'failed', 'partially_failed', 'canceled']),
    counts,
    metadata: z.record(z.string(), z.string()),
    webhook_url: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    jobs: z.array(jobSchema),
  })
  .meta({ id: 'Batch' });

export const createdBatchSchema = z.object({ id: z.string(), status: z.literal('running'), job_ids: z.array(z.string()) }).meta({ id: 'CreatedBatch' });

export const batchParamsSchema = z.object({ id: z.string().regex(/^bat_[0-9a-z]{26}$/, 'not a batch id') });
