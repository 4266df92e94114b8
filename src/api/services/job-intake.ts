import type { FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import { z } from 'zod';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import type { InputRole, JobInput, TemplateRef } from '../../shared/jobs/job-record.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { acceptsForRole, formatOfMime } from '../../shared/media/media-formats.ts';
import { storeMedia } from './media-intake.ts';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH, tooDeep } from '../http/plugins/request-limits.ts';
import { MAX_IMAGES, UPLOAD_REF, jobFieldsSchema, type CreateJobBody } from '../http/schemas/jobs.ts';
import type { UploadStore } from './upload-store.ts';

const ROLE_OF_PART: Record<string, { role: InputRole; max: number }> = {
  images: { role: 'image', max: MAX_IMAGES },
  audio: { role: 'audio', max: 1 },
  logo: { role: 'logo', max: 1 },
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
  /** the template the body was merged from */
  template?: TemplateRef;
}

export function validationProblem(error: Pick<z.ZodError, 'issues'>, prefix: string): ProblemError {
  const errors = error.issues.map((issue) => ({ path: [prefix, ...issue.path].join('.'), message: issue.message }));
  return new ProblemError('validation_failed', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

const invalid = (detail: string, path = 'body') =>
  new ProblemError('validation_failed', 'Invalid request', detail, { errors: [{ path, message: detail }] });

const ROLE_NAMES: Record<InputRole, string> = { image: 'a picture', audio: 'audio', logo: 'a still image' };

/** Whether an upload (which POST /v1/uploads took as a picture or as audio) may serve as an input of this role. */
function uploadServes(upload: { role: InputRole; contentType: string }, role: InputRole): boolean {
  if (role !== 'logo') return upload.role === role;
  return upload.role === 'image' && acceptsForRole('logo', formatOfMime(upload.contentType));
}

/** An http(s) URL as a URL input, or `upload:<id>` as the tenant's stored upload of the right kind. */
async function sourceInput(source: string, role: InputRole, tenant: string, uploads: UploadStore, path: string): Promise<JobInput> {
  const ref = UPLOAD_REF.exec(source);
  if (!ref?.[1]) return { kind: 'url', role, url: source };
  const upload = await uploads.get(tenant, ref[1]);
  if (!upload) throw invalid(`${source} does not exist or has expired (uploads are kept 24 h)`, path);
  if (!uploadServes(upload, role)) throw invalid(`${source} is ${upload.role === 'audio' ? 'audio' : upload.contentType}, not ${ROLE_NAMES[role]}`, path);
  return { kind: 'file', role, key: upload.key, filename: upload.filename, contentType: upload.contentType, sizeBytes: upload.sizeBytes };
}

/** The inputs the options name by URL or upload reference (the music, the logo), unless a file part sent them already. */
async function optionInputs(options: JobFields['options'], sent: readonly JobInput[], tenant: string, uploads: UploadStore): Promise<JobInput[]> {
  const named = [
    { role: 'audio', url: options.audio?.url, part: 'audio', field: 'options.audio.url', what: 'the music' },
    { role: 'logo', url: options.logo?.url, part: 'logo', field: 'options.logo.url', what: 'the logo' },
  ] as const;
  const inputs: JobInput[] = [];
  for (const { role, url, part, field, what } of named) {
    const hasPart = sent.some((input) => input.role === role);
    if (url && hasPart) throw invalid(`send ${what} either as a "${part}" part or as ${field}, not both`, `body.${field}`);
    if (url) inputs.push(await sourceInput(url, role, tenant, uploads, `body.${field}`));
    if (role === 'logo' && !url && !hasPart && options.logo) throw invalid(`options.logo needs its image: a "logo" part or options.logo.url`, 'body.options.logo');
  }
  return inputs;
}

/** The inputs of a JSON body: its images, then the music and the logo if the options name them. */
export async function intakeJsonBody(body: CreateJobBody, tenant: string, uploads: UploadStore): Promise<JobIntake> {
  const images = await Promise.all(body.images.map((source, i) => sourceInput(source, 'image', tenant, uploads, `body.images.${i}`)));
  const named = await optionInputs(body.options, [], tenant, uploads);
  const { images: _images, ...fields } = body;
  return { fields, inputs: [...images, ...named], canonicalBody: stringify(body) ?? '' };
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
          throw invalid(`unexpected file part "${part.fieldname}"; images go in parts named "images", music in one part named "audio", a logo in one named "logo"`);
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
    const named = await optionInputs(parsed.data.options, inputs, request.tenant, deps.uploads);
    return { fields: parsed.data, inputs: [...inputs, ...named], canonicalBody: stringify({ fields: parsed.data, files: hashes }) ?? '' };
  } catch (error) {
    await deps.storage.remove(`inputs/${jobId}`);
    throw error;
  }
}

/** A form field that carries JSON text (options, metadata): parsed, or 400 naming the field. */
export function parseJsonField(name: string, value: string): unknown {
  if (jsonNestedDeeperThan(value, MAX_JSON_DEPTH)) throw tooDeep(`body.${name}`);
  try {
    return JSON.parse(value);
  } catch {
    throw invalid(`the "${name}" field must be JSON text`, `body.${name}`);
  }
}
