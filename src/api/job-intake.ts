import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { fileTypeStream } from 'file-type';
import { z } from 'zod';
import { ProblemError } from '../shared/errors.ts';
import type { InputRole, JobInput } from '../shared/job-record.ts';
import type { Storage } from '../shared/storage.ts';
import { MAX_IMAGES, jobFieldsSchema, type CreateJobBody } from './schemas/jobs.ts';

/** What each file part may hold, judged by content, never by name or declared type. */
const ACCEPTED_TYPES: Record<InputRole, { exts: Set<string>; names: string; max: number }> = {
  image: { exts: new Set(['jpg', 'png', 'webp', 'gif', 'mp4', 'mov', 'webm']), names: 'jpg, png, webp, gif, mp4, mov or webm', max: MAX_IMAGES },
  audio: { exts: new Set(['mp3', 'wav', 'm4a', 'aac']), names: 'mp3, wav, m4a or aac', max: 1 },
};
const ROLE_OF_PART: Record<string, InputRole> = { images: 'image', audio: 'audio' };
const FIELD_NAMES = new Set(['prompt', 'preset', 'options']);

export type JobFields = z.infer<typeof jobFieldsSchema>;

export function validationProblem(error: z.ZodError, prefix: string): ProblemError {
  const errors = error.issues.map((issue) => ({ path: [prefix, ...issue.path].join('.'), message: issue.message }));
  return new ProblemError(400, 'validation_failed', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

const invalid = (detail: string) => new ProblemError(400, 'validation_failed', 'Invalid request', detail);

async function storeFile(part: MultipartFile, role: InputRole, storage: Storage, key: string): Promise<JobInput> {
  const sniffed = await fileTypeStream(part.file);
  const ext = sniffed.fileType?.ext;
  const accepted = ACCEPTED_TYPES[role];
  if (!ext || !accepted.exts.has(ext)) {
    part.file.resume();
    const found = sniffed.fileType ? sniffed.fileType.mime : 'not a recognised format';
    throw new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', `"${part.filename}" (part "${part.fieldname}") is ${found}; send ${accepted.names}`);
  }
  const { sizeBytes } = await storage.write(`${key}.${ext}`, sniffed);
  return { kind: 'file', role, key: `${key}.${ext}`, filename: part.filename, contentType: sniffed.fileType?.mime, sizeBytes };
}

/** The inputs of a JSON body: its image URLs, then the music URL if the options name one. */
export function inputsOfJsonBody(body: CreateJobBody): JobInput[] {
  const images = body.images.map((url): JobInput => ({ kind: 'url', role: 'image', url }));
  return body.options.audio?.url ? [...images, { kind: 'url', role: 'audio', url: body.options.audio.url }] : images;
}

/**
 * Reads a multipart job form: file parts named `images` (and one `audio`)
 * stream to storage under the job's own prefix; `prompt`, `preset` and
 * `options` (JSON text) are validated exactly like the JSON body's fields.
 */
export async function readMultipartJob(
  request: FastifyRequest,
  storage: Storage,
  jobId: string,
): Promise<{ fields: JobFields; inputs: JobInput[] }> {
  const inputs: JobInput[] = [];
  const raw: Record<string, unknown> = {};
  const count = (role: InputRole) => inputs.filter((input) => input.role === role).length;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const role = ROLE_OF_PART[part.fieldname];
        if (!role) {
          part.file.resume();
          throw invalid(`unexpected file part "${part.fieldname}"; images go in parts named "images", music in one part named "audio"`);
        }
        if (count(role) >= ACCEPTED_TYPES[role].max) {
          part.file.resume();
          throw invalid(`at most ${ACCEPTED_TYPES[role].max} "${part.fieldname}" part(s) per job`);
        }
        inputs.push(await storeFile(part, role, storage, `inputs/${jobId}/${inputs.length}`));
        continue;
      }
      if (!FIELD_NAMES.has(part.fieldname)) throw invalid(`unknown field "${part.fieldname}"`);
      raw[part.fieldname] = part.fieldname === 'options' ? parseJsonField(String(part.value)) : part.value;
    }
    if (count('image') === 0) throw invalid('send at least one file part named "images"');
    const parsed = jobFieldsSchema.safeParse(raw);
    if (!parsed.success) throw validationProblem(parsed.error, 'body');
    if (parsed.data.options.audio?.url && count('audio') > 0) throw invalid('send the music either as an "audio" part or as options.audio.url, not both');
    const urlAudio: JobInput[] = parsed.data.options.audio?.url ? [{ kind: 'url', role: 'audio', url: parsed.data.options.audio.url }] : [];
    return { fields: parsed.data, inputs: [...inputs, ...urlAudio] };
  } catch (error) {
    await storage.remove(`inputs/${jobId}`);
    throw error;
  }
}

function parseJsonField(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw invalid('the "options" field must be JSON text');
  }
}
