import type { Account, AnonymousTokenResult } from './accounts.ts';
import type { AccountStore, EngineStore, RenderStore, SessionStore } from './engine-store.ts';
import { newAnonymousUserId, newSessionId, newTaskId, newToken } from './ids.ts';
import type { RenderJob } from './renders.ts';
import type { Session } from './sessions.ts';

/** The engine's store in this process's memory: an engine that restarts has lost it. */
export function createMemoryStore(accounts: { initialCredits: number; staticTokens: readonly string[] }): EngineStore {
  return {
    accounts: new MemoryAccountStore(accounts.initialCredits, accounts.staticTokens),
    sessions: new MemorySessionStore(),
    renders: new MemoryRenderStore(),
  };
}

interface TokenRecord {
  userId: string;
  expiresAt: number;
}

const ANONYMOUS_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;
const RATE_LIMIT_RETRY_AFTER_S = 30;

class MemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** the token each client id was last given: one anonymous token per client per TTL */
  private readonly tokenByClient = new Map<string, string>();
  private issued = 0;

  constructor(
    private readonly initialCredits: number,
    staticTokens: readonly string[],
  ) {
    staticTokens.forEach((token, index) => {
      const account = this.openAccount(`user_static_${index + 1}`);
      this.tokens.set(token, { userId: account.userId, expiresAt: Number.POSITIVE_INFINITY });
    });
  }

  issueAnonymous(clientId: string, now = Date.now()): AnonymousTokenResult {
    const previous = this.tokenByClient.get(clientId);
    const previousRecord = previous ? this.tokens.get(previous) : undefined;
    if (previousRecord && previousRecord.expiresAt > now) return { ok: false, retryAfterS: RATE_LIMIT_RETRY_AFTER_S };
    const account = this.openAccount(newAnonymousUserId());
    const token = newToken();
    const expiresAt = now + ANONYMOUS_TOKEN_TTL_MS;
    this.tokens.set(token, { userId: account.userId, expiresAt });
    this.tokenByClient.set(clientId, token);
    this.issued += 1;
    return { ok: true, token, account, expiresAt: new Date(expiresAt) };
  }

  get issuedCount(): number {
    return this.issued;
  }

  expireAll(): void {
    for (const record of this.tokens.values()) record.expiresAt = 0;
  }

  authenticate(token: string, now = Date.now()): Account | undefined {
    const record = this.tokens.get(token);
    if (!record || record.expiresAt <= now) return undefined;
    return this.accounts.get(record.userId);
  }

  charge(account: Account, amount: number): boolean {
    if (account.available < amount) return false;
    account.available -= amount;
    return true;
  }

  private openAccount(userId: string): Account {
    const account = { userId, available: this.initialCredits, frozen: 0 };
    this.accounts.set(userId, account);
    return account;
  }
}

class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();

  create(userId: string, language: string): Session {
    const session: Session = {
      id: newSessionId(),
      taskId: newTaskId(),
      userId,
      language,
      files: [],
      latestUpload: [],
      uploadedSinceDraft: false,
      timeline: null,
      timelines: [],
      instructions: 0,
      lastUsedAt: Date.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  clear(): void {
    this.sessions.clear();
  }

  find(sessionId: string, userId: string): Session | undefined {
    return touchIfOwned(this.sessions.get(sessionId), userId);
  }

  delete(sessionId: string): void {
    this.sessions.delete(sessionId);
  }
}

/** A session or render is found only by the account that owns it, and each find counts as a use (for expiry). */
function touchIfOwned<T extends { userId: string; lastUsedAt: number }>(record: T | undefined, userId: string): T | undefined {
  if (record?.userId !== userId) return undefined;
  record.lastUsedAt = Date.now();
  return record;
}

class MemoryRenderStore implements RenderStore {
  private readonly renders = new Map<string, RenderJob>();

  add(job: RenderJob): void {
    if (this.renders.has(job.id)) throw new Error(`render id ${job.id} already exists`);
    this.renders.set(job.id, job);
  }

  has(id: string): boolean {
    return this.renders.has(id);
  }

  find(id: string, userId: string): RenderJob | undefined {
    return touchIfOwned(this.renders.get(id), userId);
  }

  delete(id: string): void {
    this.renders.delete(id);
  }

  all(): IterableIterator<RenderJob> {
    return this.renders.values();
  }
}
