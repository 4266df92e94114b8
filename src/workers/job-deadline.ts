import { JobError } from '../shared/errors/job-error.ts';

/**
 * JOB_TIMEOUT_S: the time a job may take from its first start, across its
 * attempts, their backoff and workers that died under it. Its signal aborts
 * whatever the job is waiting on, so no job holds a worker slot for ever.
 */
export class JobDeadline {
  readonly signal: AbortSignal;
  private readonly timer: NodeJS.Timeout;
  private readonly controller = new AbortController();

  constructor(
    startedAt: string | undefined,
    private readonly timeoutS: number,
  ) {
    const leftMs = (startedAt ? Date.parse(startedAt) : Date.now()) + timeoutS * 1000 - Date.now();
    this.signal = this.controller.signal;
    if (leftMs <= 0) this.controller.abort(this.error());
    this.timer = setTimeout(() => this.controller.abort(this.error()), Math.max(0, leftMs));
    this.timer.unref();
  }

  get passed(): boolean {
    return this.signal.aborted;
  }

  error(): JobError {
    return new JobError('job_timeout', `The job did not finish within ${this.timeoutS} s (JOB_TIMEOUT_S). Retry it to continue from its last checkpoint.`);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
