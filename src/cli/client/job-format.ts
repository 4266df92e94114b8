import type { JobView } from '../../shared/jobs/job-view.ts';

const KIB = 1024;

function size(bytes: number): string {
  return bytes >= KIB * KIB ? `${(bytes / KIB / KIB).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / KIB))} KiB`;
}

/** The video in a few words: `720×720, 2.0 s, 96 KiB` (and where it came from, when the render cache served it). */
export function describeResult(result: NonNullable<JobView['result']>): string {
  const cached = result.cached ? ', copied from an earlier identical job (nothing rendered)' : '';
  return `${result.width}×${result.height}, ${result.duration_s.toFixed(1)} s, ${size(result.size_bytes)}${cached}`;
}

/** A job as `i2v status` shows it: one `name: value` line per fact worth knowing. */
export function jobDetails(job: JobView): string[] {
  const lines = [
    `id:       ${job.id}`,
    `status:   ${job.status}`,
    `stage:    ${job.stage} (${job.progress}%)${job.queue_position !== null ? `, ${job.queue_position} ahead in the queue` : ''}`,
    `preset:   ${job.preset}`,
    `created:  ${job.created_at}`,
  ];
  if (job.prompt) lines.push(`prompt:   ${job.prompt}`);
  if (job.started_at) lines.push(`started:  ${job.started_at}`);
  if (job.finished_at) lines.push(`finished: ${job.finished_at}`);
  if (job.result) lines.push(`video:    ${describeResult(job.result)}`, `url:      ${job.result.video_url}`);
  if (job.error) lines.push(`error:    ${job.error.code}: ${job.error.message}${job.error.retryable ? ' (retryable)' : ''}`);
  return lines;
}

/** Jobs as `i2v jobs` shows them: a table with a header row. */
export function jobTable(jobs: JobView[]): string[] {
  const rows = [
    ['ID', 'STATUS', 'STAGE', 'PROGRESS', 'CREATED'],
    ...jobs.map((job) => [job.id, job.status, job.stage, `${job.progress}%`, job.created_at]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}
