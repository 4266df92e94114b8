import { describe, expect, it } from 'vitest';
import type { EngineStore } from '../../src/engine/store/engine-store.ts';
import { createMemoryStore } from '../../src/engine/store/memory-store.ts';
import type { RenderJob } from '../../src/engine/store/renders.ts';

/** Every implementation of the engine's store must pass these (today one: memory). */
const IMPLEMENTATIONS: [string, (accounts: { initialCredits: number; staticTokens: string[] }) => EngineStore][] = [['memory', createMemoryStore]];

const DAY_MS = 24 * 3600 * 1000;

function render(id: string, userId: string, sessionId = 's1'): RenderJob {
  return { id, sessionId, userId, draft: { version: 1 } as never, status: 'pending', progress: 0, lastUsedAt: 0, abort: new AbortController() };
}

describe.each(IMPLEMENTATIONS)('the engine store (%s)', (_name, create) => {
  it('issues one anonymous token per client per week, each for a new account with the initial credits', () => {
    const { accounts } = create({ initialCredits: 7, staticTokens: [] });
    const now = Date.parse('2026-01-01T00:00:00Z');
    const first = accounts.issueAnonymous('client-a', now);
    if (!first.ok) throw new Error('expected a token');
    expect(first.account).toMatchObject({ available: 7, frozen: 0 });
    expect(first.expiresAt.getTime()).toBe(now + 7 * DAY_MS);
    expect(accounts.issueAnonymous('client-a', now + 6 * DAY_MS)).toEqual({ ok: false, retryAfterS: 30 });
    const other = accounts.issueAnonymous('client-b', now);
    const again = accounts.issueAnonymous('client-a', now + 7 * DAY_MS + 1);
    expect(other.ok && again.ok && new Set([first.account.userId, other.account.userId, again.account.userId]).size).toBe(3);
    expect(accounts.issuedCount).toBe(3);
  });

  it('authenticates a token until it expires or every token is expired; static tokens never expire on their own', () => {
    const { accounts } = create({ initialCredits: 1, staticTokens: ['static-1', 'static-2'] });
    const now = Date.now();
    const issued = accounts.issueAnonymous('client', now);
    if (!issued.ok) throw new Error('expected a token');
    expect(accounts.authenticate(issued.token, now + 7 * DAY_MS - 1)?.userId).toBe(issued.account.userId);
    expect(accounts.authenticate(issued.token, now + 7 * DAY_MS)).toBeUndefined();
    expect(accounts.authenticate('static-2', now + 1000 * DAY_MS)?.userId).toBe('user_static_2');
    expect(accounts.authenticate('unknown')).toBeUndefined();
    accounts.expireAll();
    expect([accounts.authenticate(issued.token, now), accounts.authenticate('static-1', now)]).toEqual([undefined, undefined]);
  });

  it('charges credits only when there are enough', () => {
    const { accounts } = create({ initialCredits: 3, staticTokens: ['t'] });
    const account = accounts.authenticate('t')!;
    expect([accounts.charge(account, 2), accounts.charge(account, 2), accounts.charge(account, 1)]).toEqual([true, false, true]);
    expect(accounts.authenticate('t')).toMatchObject({ available: 0 });
  });

  it('finds a session only for its owner, and finding it counts as a use', () => {
    const { sessions } = create({ initialCredits: 1, staticTokens: [] });
    const a = sessions.create('user-a', 'fr');
    const b = sessions.create('user-b', 'en');
    expect(a).toMatchObject({ userId: 'user-a', language: 'fr', files: [], timeline: null, timelines: [], instructions: 0, uploadedSinceDraft: false });
    expect(a.id).not.toBe(b.id);
    a.lastUsedAt = 0;
    expect(sessions.find(a.id, 'user-b')).toBeUndefined();
    expect(a.lastUsedAt).toBe(0);
    expect(sessions.find(a.id, 'user-a')).toBe(a);
    expect(a.lastUsedAt).toBeGreaterThan(0);
    sessions.delete(a.id);
    expect(sessions.all()).toEqual([b]);
    sessions.clear();
    expect([sessions.all(), sessions.find(b.id, 'user-b')]).toEqual([[], undefined]);
  });

  it('keeps a render under its client-chosen id, never twice, found only by its owner', () => {
    const { renders } = create({ initialCredits: 1, staticTokens: [] });
    renders.add(render('r1', 'user-a'));
    expect(renders.has('r1')).toBe(true);
    expect(() => renders.add(render('r1', 'user-b'))).toThrow(/r1 already exists/);
    expect(renders.find('r1', 'user-b')).toBeUndefined();
    const found = renders.find('r1', 'user-a');
    expect(found?.lastUsedAt).toBeGreaterThan(0);
    renders.add(render('r2', 'user-b'));
    expect([...renders.all()].map((job) => job.id)).toEqual(['r1', 'r2']);
    renders.delete('r1');
    expect([renders.has('r1'), [...renders.all()].map((job) => job.id)]).toEqual([false, ['r2']]);
  });
});
