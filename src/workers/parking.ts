import type { Job, Queue } from 'bullmq';
import type { Redis } from '../shared/infra/redis.ts';
import { RedisScript } from '../shared/infra/redis-script.ts';
import type { JobRecords } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import type { RenderJobData } from '../shared/infra/queues.ts';

/**
 * What a job picked up from the queue may have to wait for before it starts:
 * a running place of its tenant (TENANT_MAX_RUNNING), or the turn of the
 * session it shares (a batch's items, revisions; batch-session.ts).
 */
export type Wait = { kind: 'tenant'; tenant: string } | { kind: 'turn'; key: string };

/**
 * A parked job waits in BullMQ's delayed set for at most this long; it is
 * normally promoted as soon as its place frees up. This is the net under a
 * wake-up lost with a process that died between freeing a place and waking
 * the next job (a turn lock left by a dead worker expires in as long).
 */
export const PARKED_RECHECK_MS = 30_000;

/** How many popped ids that could not be promoted (ended, or removed) are replaced by the next waiter in one wake. */
const WAKE_TRIES = 20;

/**
 * Jobs that wait without holding a worker slot. A job that cannot start yet
 * is moved back to BullMQ's delayed set (`job.moveToDelayed` with
 * `DelayedError`, which uses up no attempt) and listed, scored by its BullMQ
 * priority, in the waiting set of what it waits for; whoever frees a place
 * wakes the first waiters (`job.promote`, which puts the job back with its
 * priority), so it runs next without polling. Parking and waking check the
 * free room in the same script as they add or pop waiters, so a place freed
 * while a job is being parked is not missed.
 */
export class ParkedJobs {
  constructor(
    private readonly redis: Redis,
    private readonly records: JobRecords,
    private readonly queue: Pick<Queue<RenderJobData>, 'getJob'>,
    /** TENANT_MAX_RUNNING (0 = none) */
    private readonly tenantMaxRunning: number,
    private readonly logger: Logger,
  ) {}

  /** Moves the job `token` holds back to the delayed set and lists it as waiting for `wait`; the caller then throws BullMQ's DelayedError. */
  async park(job: Job<RenderJobData>, token: string, wait: Wait): Promise<void> {
    await job.moveToDelayed(Date.now() + PARKED_RECHECK_MS, token);
    await this.promote(wait, await this.pop(wait, job.id as string, job.opts.priority ?? 0));
  }

  /** Wakes the jobs waiting for `wait` that now fit (one for a turn, the free places for a tenant). */
  async wake(wait: Wait): Promise<void> {
    await this.promote(wait, await this.pop(wait));
  }

  private async pop(wait: Wait, id = '', score = 0): Promise<string[]> {
    const [waiting, held] = wait.kind === 'tenant' ? [`${this.records.tenantRunningSet(wait.tenant)}:parked`, this.records.tenantRunningSet(wait.tenant)] : [`${wait.key}:waiting`, wait.key];
    return (await WAKE.run(this.redis, [waiting, held], [id, score, wait.kind, this.tenantMaxRunning])) as string[];
  }

  private async promote(wait: Wait, ids: string[]): Promise<void> {
    for (let tries = 0; ids.length > 0 && tries < WAKE_TRIES; tries++) {
      const id = ids.shift() as string;
      if (await this.promoted(id)) continue;
      // it ended, was removed or already woke up by itself: the place it was given goes to the next waiter
      ids.push(...(await this.pop(wait)));
    }
  }

  /** Whether the job is on its way to a worker (promoted now, or already out of the delayed set). */
  private async promoted(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    try {
      await job.promote();
      return true;
    } catch (error) {
      const state = await job.getState();
      this.logger.debug({ job_id: id, state, err: error }, 'a parked job to wake was no longer delayed');
      return state === 'waiting' || state === 'prioritized' || state === 'active';
    }
  }
}

/**
 * KEYS: the waiting set (ids by BullMQ priority), what they wait for (the
 * tenant's running set, or a turn's lock); ARGV: an id to park ('' for none),
 * its score, 'tenant' or 'turn', TENANT_MAX_RUNNING. Pops and returns the
 * waiters that fit now: one when the turn's lock is free, the tenant's free
 * places (all when it has no limit).
 */
const WAKE = new RedisScript(`
if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
local room = 0
if ARGV[3] == 'turn' then
  if redis.call('EXISTS', KEYS[2]) == 0 then room = 1 end
else
  local max = tonumber(ARGV[4])
  if max <= 0 then room = redis.call('ZCARD', KEYS[1]) else room = max - redis.call('SCARD', KEYS[2]) end
end
if room <= 0 then return {} end
local popped = redis.call('ZPOPMIN', KEYS[1], room)
local ids = {}
for i = 1, #popped, 2 do table.insert(ids, popped[i]) end
return ids
`);
