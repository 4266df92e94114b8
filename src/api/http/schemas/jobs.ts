import { z } from 'zod';
import { JOB_STAGES, JOB_STATUSES, WEBHOOK_EVENTS } from '../../../shared/jobs/job-record.ts';
import { ASPECT_RATIOS, audioOptionSchema, jobOptionsSchema, logoOptionSchema, OUTPUT_FORMATS, RESOLUTIONS } from '../../../shared/jobs/job-options.ts';
import { PLATFORM_RULES, PLATFORMS } from '../../../shared/jobs/platforms.ts';
import { PRESETS } from '../../../shared/jobs/presets.ts';
import { PRIORITY_CLASSES } from '../../../shared/infra/queues.ts';

export const MAX_IMAGES = 50;
export const MAX_PROMPT_CHARS = 4000;
export const MAX_METADATA_KEYS = 20;
export const MAX_METADATA_VALUE_CHARS = 500;
export const UPLOAD_REF = /^upload:(upl_[0-9a-z]{26})$/;

const httpUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname }).max(2048);
const uploadRef = z.string().regex(UPLOAD_REF, 'an upload reference such as upload:upl_…');

/** An image: an http(s) URL the worker fetches, or `upload:<id>` from POST /v1/uploads. */
const imageSource = z.union([httpUrl, uploadRef]).describe('An http(s) URL, or upload:<id> from POST /v1/uploads');

export const metadataSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'keys are 1–64 letters, digits, "_", "." or "-"'), z.string().max(MAX_METADATA_VALUE_CHARS))
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`)
  .describe('Your own labels (string values), echoed on the job, in list filters and in webhooks');

export const DEFAULT_WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.canceled'] as const;

/** The fields shared by a JSON body and a multipart form. */
export const jobFieldsSchema = z.object({
  prompt: z.string().max(MAX_PROMPT_CHARS).default('').describe('What the clip should look like, in plain words'),
  preset: z.enum(PRESETS).default('motion'),
  options: jobOptionsSchema
    .extend({
      audio: audioOptionSchema.extend({ url: z.union([httpUrl, uploadRef]).optional() }).optional(),
      logo: logoOptionSchema
        .extend({ url: z.union([httpUrl, uploadRef]).optional().describe('the logo: an http(s) URL or upload:<id> of a still image; or send a multipart part named `logo`') })
        .optional(),
    })
    .default({}),
  webhook_url: httpUrl.optional().describe('Called (Standard Webhooks) when the job changes; https, or http for allow-listed hosts'),
  webhook_events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
  metadata: metadataSchema.default({}),
  priority: z
    .enum(PRIORITY_CLASSES)
    .optional()
    .describe('Queued high jobs start before normal ones, normal before low (default normal; a batch item defaults to its batch\'s); within a class, tenants take turns'),
});

export const createJobBodySchema = jobFieldsSchema
  .extend({ images: z.array(imageSource).min(1).max(MAX_IMAGES).describe('Images in timeline order') })
  .strict()
  .meta({ id: 'CreateJob' });

export type CreateJobBody = z.infer<typeof createJobBodySchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });

export const jobOutputSchema = z
  .object({
    aspect_ratio: z.enum(ASPECT_RATIOS).nullable().describe('null when the size is none of the named ones'),
    resolution: z.enum(RESOLUTIONS).nullable(),
    format: z.enum(OUTPUT_FORMATS),
    width: z.number().int(),
    height: z.number().int(),
    duration_s: z.number(),
    size_bytes: z.number().int(),
    video_url: z.string().describe('GET /v1/jobs/{id}/outputs/{n}/video (Range, ETag)'),
    poster_url: z.string(),
  })
  .meta({ id: 'JobOutput' });

export const jobResultSchema = z.object({
  video_url: z.string(),
  poster_url: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  duration_s: z.number(),
  size_bytes: z.number().int(),
  timeline_summary: z.string().nullable(),
  credits_used: z.number().nullable().describe('credits the backend reported for this job'),
  outputs: z.array(jobOutputSchema).describe('every rendition (options.outputs; one when the job asked for none), the first being video_url'),
  cached: z.boolean().describe('true when the video was copied from an earlier job of yours with the same input bytes and options (the render cache): nothing was rendered and no credits were used'),
});

export const jobSchema = z
  .object({
    id: z.string(),
    status: z.enum(JOB_STATUSES),
    stage: z.enum(JOB_STAGES),
    progress: z.number().int().min(0).max(100),
    preset: z.enum(PRESETS),
    prompt: z.string(),
    options: z.record(z.string(), z.unknown()),
    metadata: z.record(z.string(), z.string()),
    webhook_url: z.string().nullable(),
    webhook_events: z.array(z.enum(WEBHOOK_EVENTS)),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    expired_at: z.string().nullable().describe('When the job\'s files were deleted (RETENTION_DAYS after it finished); its video and poster then answer 410'),
    attempts: z.number().int(),
    priority: z.enum(PRIORITY_CLASSES),
    queue_position: z.number().int().nullable().describe("Jobs ahead of this one while it is queued; null once it ran, and while it waits off the queue for a running place of its tenant (TENANT_MAX_RUNNING) or for its session's turn"),
    result: jobResultSchema.nullable(),
    error: jobErrorSchema.nullable(),
    parent_id: z.string().nullable(),
    template: z.object({ id: z.string(), version: z.number().int() }).nullable().describe('The template (POST /v1/templates) the job was merged from, at the version it used'),
  })
  .meta({ id: 'Job' });



export const jobParamsSchema = z.object({ id: z.string().regex(/^job_[0-9a-z]{26}$/, 'not a job id') });

export const listJobsQuerySchema = z
  .object({
    status: z.enum(JOB_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(/^job_[0-9a-z]{26}$/, 'not a cursor from a previous page').optional(),
  })
  .catchall(z.string().max(MAX_METADATA_VALUE_CHARS))
  .describe('Filters; `metadata.<key>=<value>` filters on your metadata');

export const jobListSchema = z.object({ data: z.array(jobSchema), next_cursor: z.string().nullable() }).meta({ id: 'JobList' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    rule: z.enum(PLATFORM_RULES).optional().describe('`platform_constraint`: the first rule of `options.platform` the options break'),
    value: z.union([z.number(), z.string()]).optional().describe('`platform_constraint`: the option\'s value that breaks it'),
    limit: z
      .union([z.number(), z.array(z.union([z.number(), z.string()]))])
      .optional()
      .describe('`platform_constraint`: the bound (a duration in seconds) or the values the platform takes'),
    violations: z
      .array(
        z.object({
          platform: z.enum(PLATFORMS),
          rule: z.enum(PLATFORM_RULES),
          option: z.string(),
          value: z.union([z.number(), z.string()]),
          limit: z.union([z.number(), z.array(z.union([z.number(), z.string()]))]),
          source: z.string().describe("the platform's published page for the rule"),
          message: z.string(),
        }),
      )
      .optional()
      .describe('`platform_constraint`: every rule broken'),
    duplicates: z.array(z.number().int()).optional().describe('`invalid_outputs`: the indexes in `options.outputs` that repeat an earlier rendition'),
  })
  .loose()
  .meta({ id: 'Problem' });

/** A refused request as every route sends it: RFC 9457 `application/problem+json`. */
export function problemReply(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } };
}
