import { tenantMessage } from '../errors/error-codes.ts';
import type { JobErrorInfo } from '../errors/job-error.ts';
import type { JobRecord, JobResult, JobStage, JobStatus, StoredOutput, WebhookEvent } from './job-record.ts';
import { sizeName, type AspectRatio, type OutputFormat, type Resolution } from './job-options.ts';
import type { PriorityClass } from '../infra/queues.ts';
import type { Preset } from './presets.ts';

/** One rendition of a succeeded job as clients see it. */
export interface OutputView {
  aspect_ratio: AspectRatio | null;
  resolution: Resolution | null;
  format: OutputFormat;
  width: number;
  height: number;
  duration_s: number;
  size_bytes: number;
  video_url: string;
  poster_url: string;
}

/** The job as clients see it (GET /v1/jobs/:id, the event stream, webhooks). */
export interface JobView {
  id: string;
  status: JobStatus;
  stage: JobStage;
  progress: number;
  preset: Preset;
  prompt: string;
  options: Record<string, unknown>;
  metadata: Record<string, string>;
  webhook_url: string | null;
  webhook_events: WebhookEvent[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** when retention deleted the job's files; its file URLs then answer 410 */
  expired_at: string | null;
  attempts: number;
  priority: PriorityClass;
  queue_position: number | null;
  result: {
    video_url: string;
    poster_url: string;
    width: number;
    height: number;
    duration_s: number;
    size_bytes: number;
    timeline_summary: string | null;
    credits_used: number | null;
    cached: boolean;
    outputs: OutputView[];
  } | null;
  error: JobErrorInfo | null;
  parent_id: string | null;
  /** the template the job was made from, at the version it used */
  template: { id: string; version: number } | null;
}

/** The job as clients see it: snake_case, nulls instead of missing fields, URLs for files. */
export function jobView(record: JobRecord, baseUrl: string, queuePosition?: number): JobView {
  const self = `${baseUrl}/v1/jobs/${record.id}`;
  const result = record.result;
  return {
    id: record.id,
    status: record.status,
    stage: record.stage,
    progress: Math.round(record.progress),
    preset: record.preset,
    prompt: record.prompt,
    options: record.options,
    metadata: record.metadata,
    webhook_url: record.webhookUrl ?? null,
    webhook_events: record.webhookEvents,
    created_at: record.createdAt,
    started_at: record.startedAt ?? null,
    finished_at: record.finishedAt ?? null,
    expired_at: record.expiredAt ?? null,
    attempts: record.attempts,
    priority: record.priority ?? 'normal',
    queue_position: record.status === 'queued' ? (queuePosition ?? null) : null,
    result: result
      ? {
          video_url: `${self}/video`,
          poster_url: `${self}/poster`,
          width: result.width,
          height: result.height,
          duration_s: result.durationS,
          size_bytes: result.sizeBytes,
          timeline_summary: result.timelineSummary ?? null,
          credits_used: result.creditsUsed ?? null,
          cached: result.cached ?? false,
          outputs: storedOutputs(result).map((output, n) => outputView(output, `${self}/outputs/${n}`)),
        }
      : null,
    // records failed before messages were stable may hold the internal cause
    error: record.error ? { ...record.error, message: tenantMessage(record.error.code, record.error.message) } : null,
    parent_id: record.parentId ?? null,
    template: record.template ? { id: record.template.id, version: record.template.version } : null,
  };
}

/** A result's renditions; a job stored before renditions has its one video. */
function storedOutputs(result: JobResult): StoredOutput[] {
  return result.outputs ?? [{ format: 'mp4', videoKey: result.videoKey, posterKey: result.posterKey, width: result.width, height: result.height, durationS: result.durationS, sizeBytes: result.sizeBytes }];
}

function outputView(output: StoredOutput, self: string): OutputView {
  return {
    ...sizeName(output.width, output.height),
    format: output.format,
    width: output.width,
    height: output.height,
    duration_s: output.durationS,
    size_bytes: output.sizeBytes,
    video_url: `${self}/video`,
    poster_url: `${self}/poster`,
  };
}

/** The stored keys of a job's rendition `n`, if it has one. */
export function storedOutput(result: JobResult, n: number): StoredOutput | undefined {
  return storedOutputs(result)[n];
}
