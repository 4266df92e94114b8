import type { JobRecord } from '../shared/job-record.ts';
import type { JobView } from './schemas/jobs.ts';

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
    attempts: record.attempts,
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
        }
      : null,
    error: record.error ?? null,
    parent_id: record.parentId ?? null,
  };
}
