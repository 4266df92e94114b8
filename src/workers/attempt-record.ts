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
    /** the job's tenant, when the caller has read the record (spares each status write a read) */
    readonly tenant?: string,
  ) {}

  /**
   * Makes this attempt the job's owner (the `start` event): 'refused' when
   * the job's status does not allow it, 'tenant-busy' (nothing written) when
   * its tenant runs `tenantMaxRunning` other jobs.
   */
  take(patch: Partial<JobRecord>, tenantMaxRunning: number): Promise<'moved' | 'refused' | 'tenant-busy'> {
    return this.records.start(this.jobId, { ...patch, owner: this.owner }, { tenant: this.tenant, tenantMaxRunning });
  }

  /** Gives back the tenant's running place when the attempt ends with the job still running (it is retried after a backoff). */
  async releaseRunning(): Promise<void> {
    if (this.tenant !== undefined) await this.records.releaseRunning(this.jobId, this.tenant, this.owner);
  }

  update(patch: Partial<Omit<JobRecord, 'id' | 'checkpoint'>>): Promise<void> {
    return this.records.update(this.jobId, patch, this.owner);
  }

  checkpoint(current: Checkpoint, patch: Checkpoint): Promise<Checkpoint> {
    return this.records.checkpoint(this.jobId, current, patch, this.owner);
  }

  transition(event: StatusEvent, patch: Partial<JobRecord> = {}): Promise<boolean> {
    return this.records.transition(this.jobId, event, patch, this.owner, { tenant: this.tenant });
  }

  /** Throws SupersededError unless this attempt still owns the job: called right before a request the backend charges for. */
  async assertOwner(): Promise<void> {
    if (!(await this.records.owns(this.jobId, this.owner))) throw new SupersededError(this.jobId);
  }
}
