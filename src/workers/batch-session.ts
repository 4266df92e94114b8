import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from '../shared/infra/redis.ts';
import type { BatchRecords } from '../shared/jobs/batch-record.ts';
import type { BackendTokenKind } from '../shared/jobs/job-record.ts';

const LOCK_TTL_MS = 30_000;
const WAIT_STEP_MS = 50;

export interface BatchSession {
  sessionId: string;
  token?: BackendTokenKind;
}

/** A stored batch session: JSON, or a bare session id as stored before the token kind was kept. */
function parseSession(stored: string): BatchSession {
  return stored.startsWith('{') ? (JSON.parse(stored) as BatchSession) : { sessionId: stored };
}

/**
 * The backend session a batch's items share, as the seeds' batch workflow
 * does ("upload multiple files in one session … each gets its own render").
 * The backend's agent works on a session's latest upload and current
 * timeline, so the jobs sharing a session (a batch's items, revisions, which
 * run in their parent's) take turns: one at a time uploads and instructs
 * (under a lock); their renders run side by side.
 */
export class BatchSessions {
  constructor(
    private readonly redis: Redis,
    private readonly batches: BatchRecords,
    private readonly prefix: string,
  ) {}

  /** The lock of a batch whose first items race to create its session. */
  batchTurn(batchId: string): string {
    return this.batches.sessionLockKey(batchId);
  }

  /** The lock of one backend session, whoever shares it. */
  sessionTurn(sessionId: string): string {
    return `${this.prefix}:backend-session:${sessionId}:lock`;
  }

  /** The batch's session (with the kind of token it was made with), created by the first item that asks. */
  async sessionFor(batchId: string, create: () => Promise<BatchSession>): Promise<BatchSession> {
    const key = this.batches.sessionKey(batchId);
    const existing = await this.redis.get(key);
    if (existing) return parseSession(existing);
    const created = await create();
    await this.redis.set(key, JSON.stringify(created), 'NX');
    return parseSession((await this.redis.get(key)) as string);
  }

  /** Drops the batch's session when the backend lost it (1002), so the next item makes a new one. */
  async forget(batchId: string, sessionId: string): Promise<void> {
    const key = this.batches.sessionKey(batchId);
    const stored = await this.redis.get(key);
    if (stored && parseSession(stored).sessionId === sessionId) await this.redis.del(key);
  }

  /**
   * Takes a turn lock (`batchTurn`, `sessionTurn`) if it is free, else
   * undefined; the returned function releases it. Renewed while held, freed
   * by expiry if the holder dies.
   */
  async tryTurn(key: string): Promise<(() => Promise<void>) | undefined> {
    const owner = randomUUID();
    if (!(await this.redis.set(key, owner, 'PX', LOCK_TTL_MS, 'NX'))) return undefined;
    const renew = setInterval(() => void this.redis.pexpire(key, LOCK_TTL_MS), LOCK_TTL_MS / 3);
    return async () => {
      clearInterval(renew);
      if ((await this.redis.get(key)) === owner) await this.redis.del(key);
    };
  }

  /** Waits for a turn lock, holding the caller meanwhile (`tryTurn` without giving up). */
  async takeTurn(key: string, signal: AbortSignal): Promise<() => Promise<void>> {
    for (;;) {
      const release = await this.tryTurn(key);
      if (release) return release;
      await sleep(WAIT_STEP_MS, undefined, { signal });
    }
  }
}
