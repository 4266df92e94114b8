import type { FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import { z } from 'zod';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import type { InputRole, JobInput } from '../../shared/jobs/job-record.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { storeMedia } from './media-intake.ts';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH, tooDeep } from '../http/plugins/request-limits.ts';
import { MAX_IMAGES, UPLOAD_REF, jobFieldsSchema, type CreateJobBody } from '../http/schemas/jobs.ts';
import type { UploadStore } from './upload-store.ts';

const ROLE_OF_PART: Record<string, { role: InputRole; max: number }> = {
  images: { role: 'image', max: MAX_IMAGES },
  audio: { role: 'audio', max: 1 },
};
const FIELD_NAMES = new Set(['prompt', 'preset', 'options', 'webhook_url', 'webhook_events', 'metadata', 'priority']);
const JSON_FIELDS = new Set(['options', 'webhook_events', 'metadata']);

export type JobFields = z.infer<typeof jobFieldsSchema>;

export interface IntakeDeps {
  storage: Storage;
  uploads: UploadStore;
  maxPixels: number;
}

/** A request's job, ready to submit: its fields, its inputs, and both in a canonical form for idempotency. */
export interface JobIntake {
  fields: JobFields;
  inputs: JobInput[];
  canonicalBody: string;
}

export function validationProblem(error: z.ZodError, prefix: string): ProblemError {
  const errors = error.issues.map((issue) => ({ path: [prefix, ...issue.path].join('.'), message: issue.message }));
  return new ProblemError('validation_failed', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

const invalid = (detail: string, path = 'body') =>
  new ProblemError('validation_failed', 'Invalid request', detail, { errors: [{ path, message: detail }] });

/** An http(s) URL as a URL input, or `upload:<id>` as the tenant's stored upload of the right kind. */
async function sourceInput(source: string, role: InputRole, tenant: string, uploads: UploadStore, path: string): Promise<JobInput> {
  const ref = UPLOAD_REF.exec(source);
  if (!ref?.[1]) return { kind: 'url', role, url: source };
  const upload = await uploads.get(tenant, ref[1]);
  if (!upload) throw invalid(`${source} does not exist or has expired (uploads are kept 24 h)`, path);
  if (upload.role !== role) throw invalid(`${source} is ${upload.role === 'audio' ? 'audio' : 'a picture'}, not ${role === 'audio' ? 'audio' : 'a picture'}`, path);
  return { kind: 'file', role, key: upload.key, filename: upload.filename, contentType: upload.contentType, sizeBytes: upload.sizeBytes };
}

/** The inputs of a JSON body: its images, then the music if the options name one. */
export async function intakeJsonBody(body: CreateJobBody, tenant: string, uploads: UploadStore): Promise<JobIntake> {
  const images = await Promise.all(body.images.map((source, i) => sourceInput(source, 'image', tenant, uploads, `body.images.${i}`)));
  const audioUrl = body.options.audio?.url;
  const audio = audioUrl ? [await sourceInput(audioUrl, 'audio', tenant, uploads, 'body.options.audio.url')] : [];
  const { images: _images, ...fields } = body;
  return { fields, inputs: [...images, ...audio], canonicalBody: stringify(body) ?? '' };
}

/**
 * Reads a multipart job form: file parts named `images` (and one `audio`)
 * stream to storage under the job's own prefix; the other fields (JSON text
 * where they are objects) are validated exactly like the JSON body's.
 */
export async function intakeMultipart(request: FastifyRequest, deps: IntakeDeps, jobId: string): Promise<JobIntake> {
  const inputs: JobInput[] = [];
  const hashes: string[] = [];
  const raw: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const kind = ROLE_OF_PART[part.fieldname];
        if (!kind) {
          part.file.resume();
          throw invalid(`unexpected file part "${part.fieldname}"; images go in parts named "images", music in one part named "audio"`);
        }
        if (inputs.filter((input) => input.role === kind.role).length >= kind.max) {
          part.file.resume();
          throw invalid(`at most ${kind.max} "${part.fieldname}" part(s) per job`);
        }
        const stored = await storeMedia(part.file, part.filename, [kind.role], deps.storage, `inputs/${jobId}/${inputs.length}`, deps.maxPixels, part.mimetype);
        inputs.push({ kind: 'file', role: kind.role, key: stored.key, filename: part.filename, contentType: stored.mime, sizeBytes: stored.sizeBytes });
        hashes.push(`${part.fieldname}:${stored.sha256}`);
        continue;
      }
      if (!FIELD_NAMES.has(part.fieldname)) throw invalid(`unknown field "${part.fieldname}"`);
      raw[part.fieldname] = JSON_FIELDS.has(part.fieldname) ? parseJsonField(part.fieldname, String(part.value)) : part.value;
    }
    if (!inputs.some((input) => input.role === 'image')) throw invalid('send at least one file part named "images"');
    const parsed = jobFieldsSchema.safeParse(raw);
    if (!parsed.success) throw validationProblem(parsed.error, 'body');
    const audioUrl = parsed.data.options.audio?.url;
    if (audioUrl && inputs.some((input) => input.role === 'audio')) throw invalid('send the music either as an "audio" part or as options.audio.url, not both');
    const audio = audioUrl ? [await sourceInput(audioUrl, 'audio', request.tenant, deps.uploads, 'body.options.audio.url')] : [];
    return { fields: parsed.data, inputs: [...inputs, ...audio], canonicalBody: stringify({ fields: parsed.data, files: hashes }) ?? '' };
  } catch (error) {
    await deps.storage.remove(`inputs/${jobId}`);
    throw error;
  }
}

function parseJsonField(name: string, value: string): unknown {
  if (jsonNestedDeeperThan(value, MAX_JSON_DEPTH)) throw tooDeep(`body.${name}`);
  try {
    return JSON.parse(value);
  } catch {
    throw invalid(`the "${name}" field must be JSON text`, `body.${name}`);
  }
}
