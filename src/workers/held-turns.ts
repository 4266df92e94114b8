import type { JobRecord } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import type { BatchSessions } from './batch-session.ts';
import type { Stage } from './stage-context.ts';

/**
 * The steps that work on a shared session's latest upload or current
 * timeline: one job of the session at a time.
 */
const SESSION_TURN: ReadonlySet<Stage['step']> = new Set(['upload', 'instruct']);

/**
 * The turn locks a step of the job must hold, in the order they are taken.
 * A batch's items hold the batch's lock from connect to the end of instruct
 * (so one item at a time creates or joins the session, uploads and
 * instructs, and an item never waits for the session once it holds the
 * batch); revisions, which run in their parent's session, take that
 * session's lock, and so do batch items while they upload and instruct.
 */
export function turnLocks(sessions: BatchSessions, job: JobRecord, step: Stage['step']): string[] {
  const batch = job.batchId ? [sessions.batchTurn(job.batchId)] : [];
  if (step === 'connect') return batch;
  if (!SESSION_TURN.has(step) || (job.batchId === undefined && job.parentId === undefined)) return [];
  return [...batch, sessions.sessionTurn(job.checkpoint.sessionId as string)];
}

/**
 * The turn locks one attempt holds: taken as its steps need them, released
 * (waking the next job parked for the lock) as soon as a step no longer does.
 */
export class HeldTurns {
  private readonly held = new Map<string, () => Promise<void>>();

  constructor(
    private readonly sessions: BatchSessions,
    /** wakes the first job parked waiting for the lock */
    private readonly wake: (key: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes the locks of `keys` this attempt does not hold, without waiting:
   * the first one another job holds (and none of them is kept), or undefined
   * when all are held now.
   */
  async tryTake(keys: readonly string[]): Promise<string | undefined> {
    const taken: string[] = [];
    for (const key of keys) {
      if (this.held.has(key)) continue;
      const release = await this.sessions.tryTurn(key);
      if (!release) {
        for (const done of taken) await this.release(done);
        return key;
      }
      this.held.set(key, release);
      taken.push(key);
    }
    return undefined;
  }

  /**
   * Holds exactly `keys`: releases the others, takes the missing ones. A
   * running job waits for a lock only in a race it cannot see before it
   * starts (a revision instructing in the session a batch item has just
   * joined): it holds its slot meanwhile, as it already runs.
   */
  async holdOnly(keys: readonly string[], signal: AbortSignal): Promise<void> {
    for (const key of [...this.held.keys()]) if (!keys.includes(key)) await this.release(key);
    for (const key of keys) {
      if (this.held.has(key) || (await this.tryTake([key])) === undefined) continue;
      this.logger.info({ lock: key }, 'waiting for a session turn while running');
      this.held.set(key, await this.sessions.takeTurn(key, signal));
    }
  }

  async releaseAll(): Promise<void> {
    for (const key of [...this.held.keys()]) await this.release(key);
  }

  private async release(key: string): Promise<void> {
    const release = this.held.get(key);
    this.held.delete(key);
    await release?.();
    await this.wake(key);
  }
}
