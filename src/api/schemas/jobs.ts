import { z } from 'zod';
import { JOB_STAGES, JOB_STATUSES } from '../../shared/job-record.ts';
import { jobOptionsSchema } from '../../shared/job-options.ts';
import { PRESETS } from '../../shared/presets.ts';

export const MAX_IMAGES = 50;
export const MAX_PROMPT_CHARS = 4000;

const httpUrl = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname })
  .max(2048)
  .describe('An http(s) URL the worker fetches');

/** The fields shared by a JSON body and a multipart form. */
export const jobFieldsSchema = z.object({
  prompt: z.string().max(MAX_PROMPT_CHARS).default('').describe('What the clip should look like, in plain words'),
  preset: z.enum(PRESETS).default('motion'),
  options: jobOptionsSchema.default({}),
});

export const createJobBodySchema = jobFieldsSchema
  .extend({ images: z.array(httpUrl).min(1).max(MAX_IMAGES).describe('Image URLs, in timeline order') })
  .strict()
  .meta({ id: 'CreateJob' });

export type CreateJobBody = z.infer<typeof createJobBodySchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });

export const jobResultSchema = z.object({
  video_url: z.string(),
  poster_url: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  duration_s: z.number(),
  size_bytes: z.number().int(),
  timeline_summary: z.string().nullable(),
});

export const jobSchema = z
  .object({
    id: z.string(),
    status: z.enum(JOB_STATUSES),
    stage: z.enum(JOB_STAGES),
    progress: z.number().int().min(0).max(100),
    preset: z.enum(PRESETS),
    prompt: z.string(),
    options: jobOptionsSchema,
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    attempts: z.number().int(),
    result: jobResultSchema.nullable(),
    error: jobErrorSchema.nullable(),
  })
  .meta({ id: 'Job' });

export type JobView = z.infer<typeof jobSchema>;

export const jobParamsSchema = z.object({ id: z.string().regex(/^job_[0-9a-z]{26}$/, 'not a job id') });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
  })
  .loose()
  .meta({ id: 'Problem' });
