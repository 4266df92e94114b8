import { SupersededError, type Checkpoint, type JobRecord, type JobRecords } from '../shared/jobs/job-record.ts';
import type { StatusEvent } from '../shared/jobs/job-lifecycle.ts';

/**
 * A job's record as one attempt (one BullMQ pickup, named by its lock token)
 * writes it. Every write is a compare-and-set on the record's `owner`: a
 * worker that lost its BullMQ lock (frozen, or cut off from Redis for longer
 * than WORKER_LOCK_MS) while another worker took the job over has its writes
 * refused with SupersededError and stops, instead of overwriting the other's
 * checkpoints or sending a second instruction.
 */
export class AttemptRecord {
  constructor(
    private readonly records: JobRecords,
    readonly jobId: string,
    /** the BullMQ lock token of this attempt */
    readonly owner: string,
  ) {}

  /** Makes this attempt the job's owner (the `start` event). False when the job's status does not allow it. */
  take(patch: Partial<JobRecord>): Promise<boolean> {
    return this.records.transition(this.jobId, 'start', { ...patch, owner: this.owner });
  }

  update(patch: Partial<Omit<JobRecord, 'id' | 'checkpoint'>>): Promise<void> {
    return this.records.update(this.jobId, patch, this.owner);
  }

  checkpoint(current: Checkpoint, patch: Checkpoint): Promise<Checkpoint> {
    return this.records.checkpoint(this.jobId, current, patch, this.owner);
  }

  transition(event: StatusEvent, patch: Partial<JobRecord> = {}): Promise<boolean> {
    return this.records.transition(this.jobId, event, patch, this.owner);
  }

  /** Throws SupersededError unless this attempt still owns the job: called right before a request the backend charges for. */
  async assertOwner(): Promise<void> {
    if (!(await this.records.owns(this.jobId, this.owner))) throw new SupersededError(this.jobId);
  }
}
