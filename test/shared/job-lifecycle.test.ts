import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newId } from '../../src/shared/infra/ids.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { allows, JOB_EVENTS, JOB_LIFECYCLE, JOB_STATUSES, TERMINAL_STATUSES, type JobEvent, type JobStatus } from '../../src/shared/jobs/job-lifecycle.ts';
import { JobRecords, type JobRecord } from '../../src/shared/jobs/job-record.ts';

/** Everything a status write can touch: the record's hash and the job's place in the sets `transition` keeps. */
interface Snapshot {
  hash: Record<string, string>;
  running: boolean;
  queued: boolean;
  ended: boolean;
}

describe('the job lifecycle', () => {
  let redis: Redis;
  let records: JobRecords;
  const lines: string[] = [];
  const prefix = `test-${randomBytes(6).toString('hex')}`;

  beforeAll(() => {
    redis = createRedis(inject('redisUrl'));
    records = new JobRecords(redis, prefix, createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } }));
  });
  afterAll(() => redis.disconnect());

  async function submitted(): Promise<string> {
    const id = newId('job');
    const record: JobRecord = {
      id, tenant: 't', status: 'queued', stage: 'queued', progress: 0, preset: 'motion', prompt: '', options: {}, inputs: [],
      createdAt: new Date().toISOString(), attempts: 0, checkpoint: { sessionId: 'ses_1' }, metadata: {}, webhookEvents: [],
    };
    await records.create(record);
    return id;
  }

  async function snapshot(id: string): Promise<Snapshot> {
    return {
      hash: await redis.hgetall(records.key(id)),
      running: (await redis.sismember(records.runningSet(), id)) === 1,
      queued: (await redis.zscore(records.queuedSet(), id)) !== null,
      ended: (await redis.zscore(records.historySet(), id)) !== null,
    };
  }

  /** Sends `event` the way its caller does (worker, API, watchdog, retention); true when the call reports it applied. */
  async function send(id: string, event: JobEvent, record: JobRecord): Promise<boolean> {
    const at = new Date().toISOString();
    switch (event) {
      case 'submit':
      case 'revise':
        return false; // submit makes a new record; a revision only reads its parent
      case 'start':
        return records.transition(id, 'start', { startedAt: record.startedAt ?? at, attempts: record.attempts + 1 });
      case 'stage':
        // only an attempt that took the job runs its stages (their writes are fenced by owner, not by status)
        if (record.status !== 'running') return false;
        await records.update(id, { stage: 'rendering', progress: record.progress + 1 });
        await records.checkpoint(id, record.checkpoint, { renderAttempt: (record.checkpoint.renderAttempt ?? 0) + 1 });
        return true;
      case 'succeed':
      case 'cancel':
        return records.transition(id, event, { finishedAt: at });
      case 'fail':
      case 'lose':
        return records.transition(id, event, { error: { code: 'render_failed', message: 'x', retryable: true }, finishedAt: at });
      case 'retry':
        return records.transition(id, 'retry');
      case 'expire':
        return records.markExpired(id, Date.now() + 3_600_000, at);
    }
  }

  it('reaches every declared status from submit, and only declared ones', () => {
    const reached = new Set<JobStatus>([JOB_LIFECYCLE.submit.to]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const event of JOB_EVENTS) {
        const { to } = JOB_LIFECYCLE[event];
        if (to === 'unchanged' || reached.has(to) || ![...reached].some((status) => allows(event, status))) continue;
        reached.add(to);
        grew = true;
      }
    }
    expect([...reached].sort()).toEqual([...JOB_STATUSES].sort());
  });

  it('keeps its invariants over random event sequences sent to a real record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...JOB_EVENTS), { minLength: 4, maxLength: 40, size: 'max' }), async (events) => {
        const id = await submitted();
        let succeededEvents = 0;
        for (const event of events) {
          const before = await snapshot(id);
          const record = (await records.get(id)) as JobRecord;
          const expired = record.expiredAt !== undefined;
          const logged = lines.length;
          const reported = await send(id, event, record);
          const after = await snapshot(id);
          const current = (await records.get(id)) as JobRecord;
          const changed = JSON.stringify(after) !== JSON.stringify(before);

          // the record follows the table: an event changes it exactly when its status allows it (an expired job takes none)
          const applies = allows(event, record.status) && !expired && JOB_LIFECYCLE[event].write !== 'none';
          expect(changed, `${event} in ${record.status}${expired ? ' (expired)' : ''}`).toBe(applies);
          if (JOB_LIFECYCLE[event].write === 'transition') expect(reported).toBe(applies);
          if (!applies) expect(after).toEqual(before);
          // a refused status write is logged, naming the job, the event and the status it was refused in
          if (JOB_LIFECYCLE[event].write === 'transition' && !applies) {
            expect(lines.length).toBe(logged + 1);
            expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ level: 40, job_id: id, event, status: record.status });
          }

          // every status is a declared one, and the sets the watchdog and retention read agree with it
          expect(JOB_STATUSES).toContain(current.status);
          expect(after.running).toBe(current.status === 'running');
          expect(after.queued).toBe(current.status === 'queued');
          expect(after.ended).toBe(TERMINAL_STATUSES.has(current.status));

          // a succeeded job stays succeeded; a failed or canceled one leaves only when its client retries it
          if (record.status === 'succeeded') expect(current.status).toBe('succeeded');
          if (TERMINAL_STATUSES.has(record.status) && current.status !== record.status) expect(event).toBe('retry');

          // a retry clears what the last run ended with, and resumes from the checkpoint
          if (event === 'retry' && applies) {
            expect(current).toMatchObject({ status: 'queued', stage: 'queued', attempts: record.attempts, checkpoint: record.checkpoint });
            expect(current.error).toBeUndefined();
            expect(current.finishedAt).toBeUndefined();
            expect(current.startedAt).toBeUndefined();
          }

          // every move into succeeded emits job.succeeded, and that happens once per job
          if (applies && current.status === 'succeeded' && record.status !== 'succeeded') {
            expect((JOB_LIFECYCLE[event] as { webhook?: string }).webhook).toBe('job.succeeded');
          }
          if (applies && (JOB_LIFECYCLE[event] as { webhook?: string }).webhook === 'job.succeeded') succeededEvents += 1;
          expect(succeededEvents).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an illegal transition on a real record, leaves the record as it was, and logs it at warn', async () => {
    const id = await submitted();
    expect(await records.transition(id, 'start', { attempts: 1, startedAt: new Date().toISOString() })).toBe(true);
    expect(await records.transition(id, 'succeed', { finishedAt: new Date().toISOString() })).toBe(true);
    const before = await snapshot(id);
    const logged = lines.length;

    expect(await records.transition(id, 'cancel', { finishedAt: new Date().toISOString() })).toBe(false);
    expect(await records.transition(id, 'retry')).toBe(false);

    expect(await snapshot(id)).toEqual(before);
    expect(lines.slice(logged).map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 40, job_id: id, event: 'cancel', status: 'succeeded' }),
      expect.objectContaining({ level: 40, job_id: id, event: 'retry', status: 'succeeded' }),
    ]);
  });
});
