import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { sessionNotFound, tokenInvalid } from './envelope.ts';
import type { ResolvedEngineOptions } from '../options.ts';
import type { Faults } from './faults.ts';
import type { EngineHousekeeping } from '../store/housekeeping.ts';
import type { RenderQueue } from '../render/render-queue.ts';
import type { Account } from '../store/accounts.ts';
import type { EngineStore } from '../store/engine-store.ts';
import type { Session } from '../store/sessions.ts';

/** What every route of one engine shares: the store's accounts, sessions and renders (in Redis), and the rest. */
export interface EngineContext extends Pick<EngineStore, 'accounts' | 'sessions' | 'renders'> {
  options: ResolvedEngineOptions;
  store: EngineStore;
  /** the render queue every engine of the backend takes renders from */
  renderQueue: RenderQueue;
  /** frees expired sessions and renders, keeps the disk under its bound */
  housekeeping: EngineHousekeeping;
  /** armed by the /_engine admin routes (shared by the backend's engines); none unless a test or an operator arms them */
  faults: Faults;
  rendersDir: string;
  uploadsDir(sessionId: string): string;
}

export function engineDirs(dataDir: string) {
  return {
    dataDir,
    rendersDir: path.join(dataDir, 'renders'),
    uploadsDir: (sessionId: string) => path.join(dataDir, 'uploads', sessionId),
  };
}

/** The account behind `Authorization: Bearer <token>`, or 1001. */
export async function requireAccount(ctx: EngineContext, request: FastifyRequest): Promise<Account> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const account = match?.[1] ? await ctx.accounts.authenticate(match[1]) : undefined;
  if (!account) throw tokenInvalid();
  return account;
}

/** A path's user segment: `me`, or the account's own id. */
export function isSameUser(account: Account, userSegment: string): boolean {
  return userSegment === 'me' || userSegment === account.userId;
}

/** The account's session named in a path, or 1002. */
export async function requireSession(ctx: EngineContext, account: Account, userSegment: string, sessionId: string): Promise<Session> {
  const session = isSameUser(account, userSegment) ? await ctx.sessions.find(sessionId, account.userId) : undefined;
  if (!session) throw sessionNotFound(sessionId);
  return session;
}

/** Base of the URLs the engine hands out (cdn_url, outputUrl). */
export function publicBase(ctx: EngineContext, request: FastifyRequest): string {
  return ctx.options.publicUrl ?? `${request.protocol}://${request.host}`;
}
