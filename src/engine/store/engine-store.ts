import type { Account, AnonymousTokenResult } from './accounts.ts';
import type { RenderJob } from './renders.ts';
import type { Session } from './sessions.ts';

/**
 * What the engine keeps: the operations the protocol routes and housekeeping
 * call. One implementation today (memory-store.ts); app.ts creates it.
 *
 * The records it hands out are live: routes and the render runner change a
 * session or a render in place (its files, timeline, status, progress). The
 * operations are synchronous on purpose: the engine relies on sequences of
 * them not interleaving with another request (`renders.has` then
 * `renders.add`; housekeeping's "no render of this session runs" then
 * `sessions.delete`; `accounts.charge`). A store outside the process must make
 * those atomic, not only await them.
 */
export interface EngineStore {
  accounts: AccountStore;
  sessions: SessionStore;
  renders: RenderStore;
}

/** Tokens, the users they stand for, and each user's credits. */
export interface AccountStore {
  /** A new anonymous user and token, at most one per client id per token TTL. */
  issueAnonymous(clientId: string, now?: number): AnonymousTokenResult;
  /** anonymous tokens issued since the engine started */
  readonly issuedCount: number;
  /** Every token stops working now, as if all had expired (a fault). */
  expireAll(): void;
  /** The account a bearer token stands for, if the token is known and unexpired. */
  authenticate(token: string, now?: number): Account | undefined;
  /** Takes credits if there are enough; false leaves the balance untouched. */
  charge(account: Account, amount: number): boolean;
}

export interface SessionStore {
  create(userId: string, language: string): Session;
  all(): Session[];
  /** Forgets every session, as a backend that lost its state would (a fault). */
  clear(): void;
  /** A session only exists for its owner; finding it counts as a use. */
  find(sessionId: string, userId: string): Session | undefined;
  delete(sessionId: string): void;
}

export interface RenderStore {
  /** Render ids are chosen by clients and never reused: check `has` first (a taken id throws). */
  add(job: RenderJob): void;
  has(id: string): boolean;
  /** A render only exists for its owner; finding it counts as a use. */
  find(id: string, userId: string): RenderJob | undefined;
  delete(id: string): void;
  all(): IterableIterator<RenderJob>;
}
