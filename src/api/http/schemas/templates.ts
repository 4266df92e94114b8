import { z } from 'zod';
import { PLACEHOLDER_NAME } from '../../../shared/jobs/template-body.ts';
import { batchFieldsSchema, MAX_BATCH_ITEMS } from './batches.ts';
import { MAX_PROMPT_CHARS } from './jobs.ts';

/** The most a template's body may take as JSON (a job body is at most 1 MB; a template is one job's worth). */
export const MAX_TEMPLATE_BYTES = 256 * 1024;
export const MAX_MERGE_KEYS = 100;
export const TEMPLATE_ID = /^tpl_[0-9a-z]{26}$/;

const templateId = z.string().regex(TEMPLATE_ID, 'not a template id');

export const templateBodySchema = z
  .record(z.string(), z.unknown())
  .describe('A job body as POST /v1/jobs takes it as JSON (images by URL or upload:<id>), whose strings may hold `{{placeholders}}`: a caption, an image URL, the logo or music URL, metadata values. A string that is one placeholder alone takes the merged value as it is (a number stays a number)')
  .meta({ id: 'TemplateBody' });

export const saveTemplateSchema = z
  .object({
    name: z.string().min(1).max(200).optional().describe('Your own label for it'),
    body: templateBodySchema,
  })
  .strict()
  .meta({ id: 'SaveTemplate' });

export const mergeSchema = z
  .record(z.string().regex(PLACEHOLDER_NAME, 'a placeholder name: a letter or "_", then letters, digits, "_", "." or "-"'), z.union([z.string().max(MAX_PROMPT_CHARS), z.number(), z.boolean()]))
  .refine((merge) => Object.keys(merge).length <= MAX_MERGE_KEYS, `at most ${MAX_MERGE_KEYS} placeholders`)
  .describe("A value for each of the template's placeholders, and nothing else");

export const createJobFromTemplateSchema = z
  .object({
    template_id: templateId,
    template_version: z.number().int().min(1).optional().describe('Pin a version (default: the latest)'),
    merge: mergeSchema.default({}),
  })
  .strict()
  .meta({ id: 'CreateJobFromTemplate' });

export type CreateJobFromTemplate = z.infer<typeof createJobFromTemplateSchema>;

export const createBatchFromTemplateSchema = batchFieldsSchema
  .extend({
    template_id: templateId,
    template_version: z.number().int().min(1).optional().describe('Pin a version (default: the latest)'),
    rows: z.array(mergeSchema).min(1).max(MAX_BATCH_ITEMS).describe("One merge per product; or send the rows as CSV (multipart, a file part named `rows`, one column per placeholder)"),
  })
  .strict()
  .meta({ id: 'CreateBatchFromTemplate' });

export type CreateBatchFromTemplate = z.infer<typeof createBatchFromTemplateSchema>;

export const templateSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    version: z.number().int().describe('The version shown'),
    latest_version: z.number().int(),
    placeholders: z.array(z.string()).describe("The names this version's body uses, each once"),
    body: templateBodySchema,
    created_at: z.string(),
    version_created_at: z.string(),
  })
  .meta({ id: 'Template' });

export const templateListSchema = z.object({ data: z.array(templateSchema), next_cursor: z.string().nullable() }).meta({ id: 'TemplateList' });

export const templateParamsSchema = z.object({ id: templateId });
export const templateVersionParamsSchema = z.object({ id: templateId, version: z.coerce.number().int().min(1) });

export const listTemplatesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(TEMPLATE_ID, 'not a cursor from a previous page').optional(),
  })
  .strict();
