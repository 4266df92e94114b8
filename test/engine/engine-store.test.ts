import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { EngineKeys } from '../../src/engine/store/engine-keys.ts';
import type { EngineStore } from '../../src/engine/store/engine-store.ts';
import { createRedisStore } from '../../src/engine/store/redis-store.ts';
import type { RenderJob } from '../../src/engine/store/renders.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { testEnginePrefix } from './protocol-client.ts';

const DAY_MS = 24 * 3600 * 1000;

function render(id: string, userId: string, sessionId: string): RenderJob {
  return { id, sessionId, userId, draft: { version: 1 } as never, sources: {}, status: 'pending', progress: 5, fileName: `${id}.mp4`, lastUsedAt: Date.now() };
}

/** The store in Redis, under a prefix of its own; `twin` is a second instance on its own connection, as another engine process has. */
const opened: EngineStore[] = [];
async function create(initialCredits = 1, staticTokens: string[] = []): Promise<EngineStore & { twin: EngineStore }> {
  const keys = new EngineKeys(testEnginePrefix());
  const [store, twin] = [createRedisStore(createRedis(inject('redisUrl')), keys, { initialCredits }), createRedisStore(createRedis(inject('redisUrl')), keys, { initialCredits })];
  opened.push(store, twin);
  await store.accounts.openStatic(staticTokens, initialCredits);
  return Object.assign(store, { twin });
}
afterEach(async () => {
  await opened[0]?.drop();
  for (const store of opened.splice(0)) store.close();
});

describe('the engine store in Redis', () => {
  it('issues one anonymous token per client per week, each for a new account with the initial credits', async () => {
    const { accounts } = await create(7);
    const now = Date.now();
    const first = await accounts.issueAnonymous('client-a', now);
    if (!first.ok) throw new Error('expected a token');
    expect(first.account).toMatchObject({ available: 7, frozen: 0 });
    expect(first.expiresAt.getTime()).toBe(now + 7 * DAY_MS);
    expect(await accounts.issueAnonymous('client-a', now + 6 * DAY_MS)).toEqual({ ok: false, retryAfterS: 30 });
    const other = await accounts.issueAnonymous('client-b', now);
    const again = await accounts.issueAnonymous('client-a', now + 7 * DAY_MS + 1);
    expect(other.ok && again.ok && new Set([first.account.userId, other.account.userId, again.account.userId]).size).toBe(3);
    expect(await accounts.issuedCount()).toBe(3);
  });

  it('authenticates a token until it expires or every token is expired; static tokens never expire on their own', async () => {
    const { accounts } = await create(1, ['static-1', 'static-2']);
    const now = Date.now();
    const issued = await accounts.issueAnonymous('client', now);
    if (!issued.ok) throw new Error('expected a token');
    expect((await accounts.authenticate(issued.token, now + 7 * DAY_MS - 1))?.userId).toBe(issued.account.userId);
    expect(await accounts.authenticate(issued.token, now + 7 * DAY_MS)).toBeUndefined();
    expect((await accounts.authenticate('static-2', now + 1000 * DAY_MS))?.userId).toBe('user_static_2');
    expect(await accounts.authenticate('unknown')).toBeUndefined();
    await accounts.expireAll();
    expect([await accounts.authenticate(issued.token, now), await accounts.authenticate('static-1', now)]).toEqual([undefined, undefined]);
    // the same client gets a new token once the old one was expired
    expect((await accounts.issueAnonymous('client', now)).ok).toBe(true);
  });

  it('charges credits only when there are enough', async () => {
    const { accounts } = await create(3, ['t']);
    const account = (await accounts.authenticate('t'))!;
    expect([await accounts.charge(account, 2), await accounts.charge(account, 2), await accounts.charge(account, 1)]).toEqual([true, false, true]);
    expect(await accounts.authenticate('t')).toMatchObject({ available: 0 });
  });

  it('gives two engine processes creating sessions in the same millisecond distinct ids, and neither overwrites the other', async () => {
    const keys = new EngineKeys(testEnginePrefix());
    // each process has its own copy of the id module (its own sequence); the clock stands still for both
    const processes: EngineStore[] = [];
    for (let i = 0; i < 2; i++) {
      vi.resetModules();
      const { createRedisStore: createInProcess } = await import('../../src/engine/store/redis-store.ts');
      processes.push(createInProcess(createRedis(inject('redisUrl')), keys, { initialCredits: 1 }));
    }
    opened.push(...processes);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-12-08T00:00:00Z') });
    try {
      const created = [];
      for (let i = 0; i < 5; i++) for (const [n, store] of processes.entries()) created.push(await store.sessions.create(`user-${n}`, 'en'));
      expect(new Set(created.map((session) => session.id)).size).toBe(10);
      for (const session of created) expect((await processes[0]!.sessions.find(session.id, session.userId))?.userId).toBe(session.userId);
    } finally {
      vi.useRealTimers();
    }
  });

  it('finds a session only for its owner, and finding it counts as a use', async () => {
    const { sessions } = await create();
    const a = await sessions.create('user-a', 'fr');
    const b = await sessions.create('user-b', 'en');
    expect(a).toMatchObject({ userId: 'user-a', language: 'fr', files: [], timeline: null, timelines: [], instructions: 0, uploadedSinceDraft: false });
    expect(a.id).not.toBe(b.id);
    expect(await sessions.find(a.id, 'user-b')).toBeUndefined();
    const [aUse] = await sessions.byUse(a.lastUsedAt);
    await new Promise((r) => setTimeout(r, 5));
    expect(await sessions.find(a.id, 'user-a')).toMatchObject({ id: a.id, userId: 'user-a' });
    expect((await sessions.byUse()).map((use) => use.id)).toEqual([b.id, a.id]);
    expect((await sessions.byUse()).at(-1)!.usedAt).toBeGreaterThan(aUse!.usedAt);
    expect(await sessions.free(a.id, Date.now())).toBe(true);
    expect((await sessions.all()).map((s) => s.id)).toEqual([b.id]);
    await sessions.clear();
    expect([await sessions.all(), await sessions.find(b.id, 'user-b')]).toEqual([[], undefined]);
  });

  it('keeps a render under its client-chosen id, never twice, found only by its owner', async () => {
    const store = await create();
    const { renders, sessions } = store;
    const session = await sessions.create('user-a', 'en');
    expect(await renders.add(render('r1', 'user-a', session.id))).toBe('added');
    expect(await renders.has('r1')).toBe(true);
    expect(await renders.add(render('r1', 'user-b', session.id))).toBe('taken');
    expect(await renders.add(render('r3', 'user-a', 'no-such-session'))).toBe('no-session');
    expect(await renders.find('r1', 'user-b')).toBeUndefined();
    expect((await renders.find('r1', 'user-a'))?.lastUsedAt).toBeGreaterThan(0);
    expect(await renders.add(render('r2', 'user-a', session.id))).toBe('added');
    expect((await renders.all()).map((job) => job.id).sort()).toEqual(['r1', 'r2']);
    // a render that has not ended keeps itself and its session
    expect([await renders.free('r1', Date.now()), await sessions.free(session.id, Date.now())]).toEqual([undefined, false]);
    expect(await renders.finish('r1', { status: 'completed', durationS: 1, sizeBytes: 1000 })).toBe(true);
    expect(await renders.finish('r1', { status: 'failed', error: 'canceled' })).toBe(false);
    expect(await renders.progress('r1', 50)).toBe(false);
    expect(await store.disk()).toEqual({ bytes: 1000, files: 1 });
    expect((await renders.free('r1', Date.now()))?.fileName).toBe('r1.mp4');
    expect(await store.twin.disk()).toEqual({ bytes: 0, files: 0 });
    expect([await renders.has('r1'), (await renders.all()).map((job) => job.id)]).toEqual([false, ['r2']]);
  });

  it('stores a session change onto the newest version: changes from two engines at once are all kept', async () => {
    const store = await create();
    const session = await store.sessions.create('user-a', 'en');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? store : store.twin).sessions.update(session.id, (current) => void (current.instructions += 1))),
    );
    expect((await store.sessions.find(session.id, 'user-a'))?.instructions).toBe(20);
    expect(await store.sessions.update('gone', () => undefined)).toBeUndefined();
  });

  it('never overdraws an account charged from two engines at once', async () => {
    const store = await create(5, ['t']);
    const [mine, theirs] = [(await store.accounts.authenticate('t'))!, (await store.twin.accounts.authenticate('t'))!];
    const charged = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? store.accounts.charge(mine, 1) : store.twin.accounts.charge(theirs, 1))));
    expect(charged.filter(Boolean)).toHaveLength(5);
    expect(await store.accounts.authenticate('t')).toMatchObject({ available: 0 });
  });

  it('adds a render id once when two engines add it at once', async () => {
    const store = await create();
    const session = await store.sessions.create('user-a', 'en');
    const added = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : store.twin).renders.add(render('r-same', 'user-a', session.id))));
    expect(added.filter((outcome) => outcome === 'added')).toHaveLength(1);
    expect(added.filter((outcome) => outcome === 'taken')).toHaveLength(9);
  });

  it('gives a client id one token when two engines are asked at once', async () => {
    const store = await create();
    const issued = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : store.twin).accounts.issueAnonymous('client-x')));
    expect(issued.filter((result) => result.ok)).toHaveLength(1);
    expect(await store.twin.accounts.issuedCount()).toBe(1);
  });

  it('lets one of two engines free an expired session, and neither while a render of it runs', async () => {
    const store = await create();
    const session = await store.sessions.create('user-a', 'en');
    await store.renders.add(render('r-running', 'user-a', session.id));
    const later = Date.now() + 1000;
    expect([await store.sessions.free(session.id, later), await store.twin.sessions.free(session.id, later)]).toEqual([false, false]);
    await store.renders.finish('r-running', { status: 'failed', error: 'x' });
    expect((await Promise.all([store.sessions.free(session.id, later), store.twin.sessions.free(session.id, later)])).filter(Boolean)).toHaveLength(1);
  });
});
