import type { JobView } from '../../shared/jobs/job-view.ts';

type Snapshot = Pick<JobView, 'status' | 'stage' | 'progress' | 'queue_position'>;

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 30;
const MIN_BAR_WIDTH = 10;

function describe(job: Snapshot): string {
  if (job.status === 'queued') return job.queue_position ? `queued (${job.queue_position} ahead)` : 'queued';
  return job.status === 'running' ? job.stage : job.status;
}

/**
 * A job's progress for people: on a terminal, one line redrawn in place
 * (`\r`) with a bar, the percentage and the stage; elsewhere (a log, a pipe)
 * one plain line per stage or status change.
 */
export class ProgressBar {
  private shown = '';
  private drawn = false;

  constructor(private readonly output: Output) {}

  update(job: Snapshot): void {
    const progress = Math.max(0, Math.min(100, Math.round(job.progress)));
    if (!this.output.isTTY) {
      const line = `${describe(job)}`;
      if (line !== this.shown) this.output.write(`${(this.shown = line)} ${progress}%\n`);
      return;
    }
    const text = `${String(progress).padStart(3)}% ${describe(job)}`;
    const columns = this.output.columns || 80; // 0 when the terminal does not say
    // the bar gives way first on a narrow terminal; the stage is what matters
    const width = Math.min(BAR_WIDTH, columns - text.length - 4);
    const filled = Math.round((progress / 100) * width);
    let line = width >= MIN_BAR_WIDTH ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}` : text;
    if (line.length >= columns) line = line.slice(0, columns - 1);
    if (line === this.shown) return;
    this.shown = line;
    this.drawn = true;
    this.output.write(`\r${line}\x1b[K`);
  }

  /** Ends the redrawn line so what follows starts on its own. */
  finish(): void {
    if (this.drawn) this.output.write('\n');
    this.drawn = false;
  }
}
