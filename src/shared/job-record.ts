import type { Redis } from 'ioredis';
import type { Draft } from './draft.ts';
import type { JobErrorInfo } from './errors.ts';
import type { Preset } from './presets.ts';
import type { JobOptions } from './job-options.ts';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const JOB_STAGES = ['queued', 'connecting', 'uploading', 'instructing', 'rendering', 'storing', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

/** What an input is for: a picture (or short video) of the timeline, or its background music. */
export type InputRole = 'image' | 'audio';

/** An input as the API stored it: a file in storage, or a URL the worker fetches. */
export type JobInput =
  | { kind: 'file'; role: InputRole; key: string; filename: string; contentType?: string; sizeBytes: number }
  | { kind: 'url'; role: InputRole; url: string };

/** A file the backend holds for the job's session (its upload reply, normalized). */
export interface BackendFileRef {
  filename: string;
  fileType: string;
  cdnUrl: string;
}

/**
 * What each finished stage leaves behind, so a job picked up again resumes
 * from the last one instead of repeating paid or slow work.
 */
export interface Checkpoint {
  sessionId?: string;
  uploaded?: BackendFileRef[];
  instruction?: { text: string; sentAt: string; completedAt?: string; reply?: string };
  draft?: Draft;
  renderId?: string;
  renderStartedAt?: string;
  renderOutputUrl?: string;
}

export interface JobResult {
  videoKey: string;
  posterKey: string;
  width: number;
  height: number;
  durationS: number;
  sizeBytes: number;
  timelineSummary?: string;
  message?: string;
}

export interface JobRecord {
  id: string;
  tenant: string;
  status: JobStatus;
  stage: JobStage;
  progress: number;
  preset: Preset;
  prompt: string;
  options: JobOptions;
  inputs: JobInput[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  attempts: number;
  result?: JobResult;
  error?: JobErrorInfo;
  checkpoint: Checkpoint;
}

/** Fields stored as JSON inside the hash; the rest are plain strings or numbers. */
const JSON_FIELDS = new Set(['options', 'inputs', 'result', 'error', 'checkpoint']);
const NUMBER_FIELDS = new Set(['progress', 'attempts']);

function toHash(patch: Partial<JobRecord>): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    hash[field] = JSON_FIELDS.has(field) ? JSON.stringify(value) : String(value);
  }
  return hash;
}

function fromHash(hash: Record<string, string>): JobRecord {
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(hash)) {
    record[field] = JSON_FIELDS.has(field) ? JSON.parse(value) : NUMBER_FIELDS.has(field) ? Number(value) : value;
  }
  record.checkpoint ??= {};
  return record as unknown as JobRecord;
}

/**
 * Job records live in one Redis hash per job, read by the API and written by
 * workers; BullMQ only carries the job id.
 */
export class JobRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  async create(record: JobRecord): Promise<void> {
    await this.redis.hset(this.key(record.id), toHash(record));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    return hash.id ? fromHash(hash) : undefined;
  }

  async update(id: string, patch: Partial<Omit<JobRecord, 'id' | 'checkpoint'>>): Promise<void> {
    const hash = toHash(patch);
    if (Object.keys(hash).length > 0) await this.redis.hset(this.key(id), hash);
  }

  /** Merges into the checkpoint; a stage calls this before the next stage begins. */
  async checkpoint(id: string, current: Checkpoint, patch: Checkpoint): Promise<Checkpoint> {
    const next = { ...current, ...patch };
    await this.redis.hset(this.key(id), 'checkpoint', JSON.stringify(next));
    return next;
  }

  async incrementAttempts(id: string): Promise<number> {
    return this.redis.hincrby(this.key(id), 'attempts', 1);
  }
}
