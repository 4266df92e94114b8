import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { fileTypeStream } from 'file-type';
import { z } from 'zod';
import { ProblemError } from '../shared/errors.ts';
import type { JobInput } from '../shared/job-record.ts';
import type { Storage } from '../shared/storage.ts';
import { MAX_IMAGES, jobFieldsSchema } from './schemas/jobs.ts';

/** What may be uploaded as a job's image, judged by content, never by name. */
const ACCEPTED_IMAGE_TYPES = new Set(['jpg', 'png', 'webp', 'gif', 'mp4', 'mov', 'webm']);
const FIELD_NAMES = new Set(['prompt', 'preset', 'options']);

export type JobFields = z.infer<typeof jobFieldsSchema>;

export function validationProblem(error: z.ZodError, prefix: string): ProblemError {
  const errors = error.issues.map((issue) => ({ path: [prefix, ...issue.path].join('.'), message: issue.message }));
  return new ProblemError(400, 'validation_failed', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

async function storeImage(part: MultipartFile, storage: Storage, key: string): Promise<JobInput> {
  const sniffed = await fileTypeStream(part.file);
  const ext = sniffed.fileType?.ext;
  if (!ext || !ACCEPTED_IMAGE_TYPES.has(ext)) {
    part.file.resume();
    throw new ProblemError(415, 'unsupported_media_type', 'Unsupported media type',
      `"${part.filename}" is ${sniffed.fileType ? sniffed.fileType.mime : 'not a recognised image'}; send jpg, png, webp, gif, mp4, mov or webm`);
  }
  const { sizeBytes } = await storage.write(`${key}.${ext}`, sniffed);
  if (part.file.truncated) throw new ProblemError(413, 'payload_too_large', 'File too large', `"${part.filename}" is over the upload limit`);
  return { kind: 'file', key: `${key}.${ext}`, filename: part.filename, contentType: sniffed.fileType?.mime, sizeBytes };
}

/**
 * Reads a multipart job form: file parts named `images` stream to storage
 * under the job's own prefix; `prompt`, `preset` and `options` (JSON text) are
 * validated exactly like the JSON body's fields.
 */
export async function readMultipartJob(
  request: FastifyRequest,
  storage: Storage,
  jobId: string,
): Promise<{ fields: JobFields; inputs: JobInput[] }> {
  const inputs: JobInput[] = [];
  const raw: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'images') {
          part.file.resume();
          throw new ProblemError(400, 'validation_failed', 'Invalid request', `unexpected file part "${part.fieldname}"; images go in parts named "images"`);
        }
        if (inputs.length >= MAX_IMAGES) throw new ProblemError(400, 'validation_failed', 'Invalid request', `at most ${MAX_IMAGES} images per job`);
        inputs.push(await storeImage(part, storage, `inputs/${jobId}/${inputs.length}`));
        continue;
      }
      if (!FIELD_NAMES.has(part.fieldname)) {
        throw new ProblemError(400, 'validation_failed', 'Invalid request', `unknown field "${part.fieldname}"`);
      }
      raw[part.fieldname] = part.fieldname === 'options' ? parseJsonField(String(part.value)) : part.value;
    }
    if (inputs.length === 0) throw new ProblemError(400, 'validation_failed', 'Invalid request', 'send at least one file part named "images"');
    const parsed = jobFieldsSchema.safeParse(raw);
    if (!parsed.success) throw validationProblem(parsed.error, 'body');
    return { fields: parsed.data, inputs };
  } catch (error) {
    await storage.remove(`inputs/${jobId}`);
    throw error;
  }
}

function parseJsonField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ProblemError(400, 'validation_failed', 'Invalid request', 'the "options" field must be JSON text');
  }
}
