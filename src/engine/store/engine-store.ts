import type { Account, AnonymousTokenResult } from './accounts.ts';
import type { RenderJob } from './renders.ts';
import type { Session } from './sessions.ts';

/**
 * What the engine keeps, in Redis (redis-store.ts), shared by every engine
 * process on the same ENGINE_REDIS_PREFIX: any of them answers any session.
 *
 * Records handed out are copies: a change is stored through the store. The
 * check-then-act sequences are each one Lua script, so they hold across
 * processes: a render id is added once (`renders.add`), a session is freed
 * only while no render of it runs and nobody used it since it was picked
 * (`sessions.free`), a charge never overdraws (`accounts.charge`), one
 * anonymous token per client id per TTL (`accounts.issueAnonymous`), and a
 * session change lands only on the version it was made from
 * (`sessions.update`, retried on the newer one).
 */
export interface EngineStore {
  accounts: AccountStore;
  sessions: SessionStore;
  renders: RenderStore;
  /** bytes and files on disk that sessions and completed renders hold */
  disk(): Promise<{ bytes: number; files: number }>;
  /** what expiry and the disk bound freed, over every engine of the backend */
  freed: FreedCounters;
  /** deletes every key of this store (tests) */
  drop(): Promise<void>;
  close(): void;
}

/** Tokens, the users they stand for, and each user's credits. */
export interface AccountStore {
  /** Opens the static tokens' accounts (NEMO_TOKEN) unless an engine of the backend already has. */
  openStatic(tokens: readonly string[], credits: number): Promise<void>;
  /** A new anonymous user and token, at most one per client id per token TTL. */
  issueAnonymous(clientId: string, now?: number): Promise<AnonymousTokenResult>;
  /** anonymous tokens the backend issued */
  issuedCount(): Promise<number>;
  /** Every token stops working now, as if all had expired (a fault). */
  expireAll(): Promise<void>;
  /** The account a bearer token stands for, if the token is known and unexpired. */
  authenticate(token: string, now?: number): Promise<Account | undefined>;
  /** Takes credits if there are enough (and updates `account.available`); false leaves the balance untouched. */
  charge(account: Account, amount: number): Promise<boolean>;
}

export interface SessionStore {
  create(userId: string, language: string): Promise<Session>;
  all(): Promise<Session[]>;
  /** Forgets every session, as a backend that lost its state would (a fault); files stay on disk. */
  clear(): Promise<void>;
  /** A session only exists for its owner; finding it counts as a use. */
  find(sessionId: string, userId: string): Promise<Session | undefined>;
  /**
   * Applies `change` to the newest version of the session and stores it if no
   * other change was stored meanwhile, else does it again on the newer one;
   * `change` must only change the session. Undefined when the session is gone.
   */
  update(sessionId: string, change: (session: Session) => void): Promise<Session | undefined>;
  /** Of these session ids, those no session has (upload folders left behind). */
  unknown(sessionIds: readonly string[]): Promise<string[]>;
  /** Session ids last used at or before `usedBefore`, least recently used first. */
  byUse(usedBefore?: number): Promise<LastUse[]>;
  /**
   * Deletes it unless a render of it has not ended or it was used after
   * `usedBefore` (or, with `holdingOnly`, it holds no file); true when this
   * call deleted it, and so owns the deletion of its files.
   */
  free(sessionId: string, usedBefore: number, holdingOnly?: boolean): Promise<boolean>;
}

export interface LastUse {
  id: string;
  usedAt: number;
}

export type AddRender = 'added' | 'taken' | 'no-session';

export interface RenderStore {
  /** Render ids are chosen by clients and never reused: 'taken' when the id exists; 'no-session' when its session is gone. */
  add(job: RenderJob): Promise<AddRender>;
  has(id: string): Promise<boolean>;
  /** A render only exists for its owner; finding it counts as a use. */
  find(id: string, userId: string): Promise<RenderJob | undefined>;
  /** What the engine rendering it reads (no use counted). */
  get(id: string): Promise<RenderJob | undefined>;
  /** An engine starts rendering it (counted in `runs`): processing at `progress`; false when it has ended (canceled). */
  start(id: string, progress: number): Promise<boolean>;
  /** Marks it processing at `progress` (never lower); false when it has ended (canceled). */
  progress(id: string, progress: number): Promise<boolean>;
  /** Ends it, once: false when it had already ended. */
  finish(id: string, outcome: RenderOutcome): Promise<boolean>;
  /** Render ids last used at or before `usedBefore`, least recently used first. */
  byUse(usedBefore?: number): Promise<LastUse[]>;
  /** Deletes it if it has ended (with `holdingOnly`: completed) and was not used after `usedBefore`; the record deleted, whose output file the caller then owns. */
  free(id: string, usedBefore: number, holdingOnly?: boolean): Promise<RenderJob | undefined>;
  all(): Promise<RenderJob[]>;
  /** Of these output file names, those no render knows (files left behind). */
  unknownOutputs(names: readonly string[]): Promise<string[]>;
}

export type RenderOutcome =
  | { status: 'completed'; durationS: number; sizeBytes: number }
  | { status: 'failed'; error: string };

export type FreedKind = 'sessions' | 'renders' | 'leftovers';

export interface FreedCounters {
  add(kind: FreedKind, count?: number): Promise<void>;
  read(): Promise<Record<FreedKind, number>>;
}
