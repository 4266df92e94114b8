import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { JobRecords } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { RETENTION_QUEUE } from '../shared/infra/queues.ts';
import { logQueueErrors } from '../shared/infra/redis.ts';
import type { Scheduled } from './watchdog.ts';
import type { Storage } from '../shared/storage/storage.ts';
import { UPLOAD_TTL_S, type UploadFiles } from '../shared/jobs/upload-files.ts';

const DAY_MS = 24 * 3600 * 1000;
/** ids read from an index per round trip */
const PAGE = 100;

export interface RetentionDeps {
  records: JobRecords;
  uploads: UploadFiles;
  storage: Storage;
  logger: Logger;
}

export interface RetentionRun {
  /** jobs whose files were deleted, now marked expired */
  jobs: string[];
  /** storage keys of uploads deleted */
  uploads: string[];
}

/**
 * Deletes the inputs and outputs of jobs that ended more than `retentionMs`
 * before `now`, marking each expired first (an expired job never changes
 * status again, so a retry cannot race the deletion), and uploads that old
 * (never within the 24 h they can be referenced). Reads time-ordered indexes,
 * never the whole keyspace or the storage listing.
 */
export async function expireOldFiles(deps: RetentionDeps, retentionMs: number, now = Date.now()): Promise<RetentionRun> {
  const run: RetentionRun = { jobs: await expireJobFiles(deps, now - retentionMs, new Date(now).toISOString()), uploads: [] };
  const uploadCutoff = now - Math.max(retentionMs, UPLOAD_TTL_S * 1000);
  for (let keys = await deps.uploads.uploadedBefore(uploadCutoff, PAGE); keys.length > 0; keys = await deps.uploads.uploadedBefore(uploadCutoff, PAGE)) {
    for (const key of keys) {
      await deps.storage.remove(key);
      await deps.uploads.forget(key);
      run.uploads.push(key);
    }
  }
  if (run.jobs.length + run.uploads.length > 0) {
    deps.logger.info({ jobs: run.jobs.length, uploads: run.uploads.length }, 'retention deleted old files');
  }
  return run;
}

/** Marks expired, and deletes the files of, every job that ended before `cutoff` and still has them; returns their ids. */
async function expireJobFiles(deps: RetentionDeps, cutoff: number, expiredAt: string): Promise<string[]> {
  const expired: string[] = [];
  for (let ids = await deps.records.finishedBefore(cutoff, PAGE); ids.length > 0; ids = await deps.records.finishedBefore(cutoff, PAGE)) {
    for (const id of ids) {
      // not marked: retried (and ended again later) or gone since it was listed; the index no longer lists it here
      if (!(await deps.records.markExpired(id, cutoff, expiredAt))) continue;
      await deps.storage.remove(`inputs/${id}`);
      await deps.storage.remove(`outputs/${id}`);
      await deps.records.forgetFinished(id);
      expired.push(id);
    }
  }
  return expired;
}

/**
 * Deletes the records of jobs that ended more than `historyMs` before `now`
 * (HISTORY_DAYS), with their index entries; files still stored (RETENTION_DAYS
 * of 0 or longer than the history) are deleted first, the same way retention
 * does, so no file outlives its record. Returns the ids deleted.
 */
export async function deleteOldRecords(deps: RetentionDeps, historyMs: number, now = Date.now()): Promise<string[]> {
  const cutoff = now - historyMs;
  await expireJobFiles(deps, cutoff, new Date(now).toISOString());
  const deleted: string[] = [];
  // ids not due stay listed ahead of the rest, so the next page starts after them
  for (let kept = 0, ids = await deps.records.endedBefore(cutoff, 0, PAGE); ids.length > 0; ids = await deps.records.endedBefore(cutoff, kept, PAGE)) {
    for (const id of ids) {
      const outcome = await deps.records.deleteEnded(id, cutoff);
      if (outcome === 'deleted') deleted.push(id);
      if (outcome === 'kept') kept += 1;
    }
  }
  if (deleted.length > 0) deps.logger.info({ jobs: deleted.length }, 'deleted job records past the history period');
  return deleted;
}

/**
 * Runs `expireOldFiles` (unless RETENTION_DAYS=0: files are kept until their
 * record goes) and `deleteOldRecords` on a BullMQ job scheduler, so across a
 * fleet they run once per interval on whichever worker is free.
 */
export async function startRetention(
  connection: ConnectionOptions,
  prefix: string,
  deps: RetentionDeps,
  settings: { retentionDays: number; historyDays: number; everyMs: number },
): Promise<Scheduled> {
  const queue = new Queue(RETENTION_QUEUE, { connection, prefix });
  const schedule = async () =>
    void (await queue.upsertJobScheduler('retention', { every: settings.everyMs }, { name: 'retention', opts: { removeOnComplete: true, removeOnFail: 100 } }));
  await schedule();
  const run = async () => {
    if (settings.retentionDays > 0) await expireOldFiles(deps, settings.retentionDays * DAY_MS);
    await deleteOldRecords(deps, settings.historyDays * DAY_MS);
  };
  const worker = new Worker(RETENTION_QUEUE, run, { connection, prefix });
  worker.on('failed', (_job, error) => deps.logger.warn({ err: error }, 'retention run failed; the next one tries again'));
  logQueueErrors(deps.logger, queue, worker);
  return {
    schedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
