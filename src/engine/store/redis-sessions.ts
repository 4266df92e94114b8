import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';
import type { EngineKeys } from './engine-keys.ts';
import type { LastUse, SessionStore } from './engine-store.ts';
import { newSessionId, newTaskId } from './ids.ts';
import type { Session } from './sessions.ts';

/** The session as stored: everything but its last use (the index's score) and version (a field of its own). */
type StoredSession = Omit<Session, 'lastUsedAt' | 'version'>;

/** The hash of a session: its owner, the JSON of the rest, its version, the bytes and files it holds, its renders not yet ended; 0 when the id is taken. */
const CREATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'data', ARGV[2], 'version', 1, 'bytes', 0, 'files', 0, 'rendering', 0)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
`);

/** data and version when the session is the user's (counting the find as a use), else nil. */
const FIND = new RedisScript(`
local found = redis.call('HMGET', KEYS[1], 'user', 'data', 'version')
if found[1] ~= ARGV[1] then return nil end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[3])
return {found[2], found[3]}
`);

/** Stores a change made from version ARGV[1]: the new version; 0 when another change came first; -1 when the session is gone. */
const UPDATE = new RedisScript(`
local session = KEYS[1]
local version = redis.call('HGET', session, 'version')
if not version then return -1 end
if version ~= ARGV[1] then return 0 end
local bytes = tonumber(redis.call('HGET', session, 'bytes'))
local files = tonumber(redis.call('HGET', session, 'files'))
redis.call('HSET', session, 'data', ARGV[2], 'version', tonumber(version) + 1, 'bytes', ARGV[3], 'files', ARGV[4])
redis.call('HINCRBY', KEYS[2], 'bytes', tonumber(ARGV[3]) - bytes)
redis.call('HINCRBY', KEYS[2], 'files', tonumber(ARGV[4]) - files)
return tonumber(version) + 1
`);

/**
 * Deletes a session (1) unless a render of it has not ended or it was used
 * after ARGV[2] or (ARGV[4] = 1) it holds no bytes (0); ARGV[3] = 1 deletes
 * it regardless (a fault).
 */
const FREE = new RedisScript(`
local session = KEYS[1]
local used = redis.call('ZSCORE', KEYS[2], ARGV[1])
local found = redis.call('HMGET', session, 'rendering', 'bytes', 'files')
if not found[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if ARGV[3] ~= '1' then
  if tonumber(found[1]) > 0 then return 0 end
  if used and tonumber(used) > tonumber(ARGV[2]) then return 0 end
  if ARGV[4] == '1' and tonumber(found[2]) == 0 then return 0 end
end
redis.call('DEL', session)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'bytes', 0 - tonumber(found[2]))
redis.call('HINCRBY', KEYS[3], 'files', 0 - tonumber(found[3]))
return 1
`);

const MAX_CHANGE_TRIES = 50;

/** Members of a by-use index scored at or before `usedBefore`, least recently used first. */
export async function lastUses(redis: Redis, index: string, usedBefore: number): Promise<LastUse[]> {
  const flat = await redis.zrangebyscore(index, '-inf', Number.isFinite(usedBefore) ? usedBefore : '+inf', 'WITHSCORES');
  const uses: LastUse[] = [];
  for (let i = 0; i < flat.length; i += 2) uses.push({ id: flat[i] as string, usedAt: Number(flat[i + 1]) });
  return uses;
}

export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: EngineKeys,
  ) {}

  async create(userId: string, language: string): Promise<Session> {
    // another engine process may have drawn the same id in the same millisecond
    for (let tries = 1; ; tries++) {
      const created = await this.tryCreate(userId, language);
      if (created) return created;
      if (tries === MAX_CHANGE_TRIES) throw new Error(`${MAX_CHANGE_TRIES} session ids in a row were taken`);
    }
  }

  private async tryCreate(userId: string, language: string): Promise<Session | undefined> {
    const now = Date.now();
    const stored: StoredSession = {
      id: newSessionId(now),
      taskId: newTaskId(),
      userId,
      language,
      files: [],
      latestUpload: [],
      uploadedSinceDraft: false,
      timeline: null,
      timelines: [],
      instructions: 0,
    };
    const created = await CREATE.run(this.redis, [this.keys.session(stored.id), this.keys.sessionsByUse], [userId, JSON.stringify(stored), now, stored.id]);
    return created === 1 ? { ...stored, lastUsedAt: now, version: 1 } : undefined;
  }

  async all(): Promise<Session[]> {
    const sessions: Session[] = [];
    for (const { id, usedAt } of await this.byUse()) {
      const [data, version] = await this.redis.hmget(this.keys.session(id), 'data', 'version');
      if (data) sessions.push(this.parse(data, version ?? null, usedAt));
    }
    return sessions;
  }

  async clear(): Promise<void> {
    for (const { id } of await this.byUse()) await this.runFree(id, 0, { force: true });
  }

  async find(sessionId: string, userId: string): Promise<Session | undefined> {
    const now = Date.now();
    const found = (await FIND.run(this.redis, [this.keys.session(sessionId), this.keys.sessionsByUse], [userId, now, sessionId])) as [string, string] | null;
    return found ? this.parse(found[0], found[1], now) : undefined;
  }

  async update(sessionId: string, change: (session: Session) => void): Promise<Session | undefined> {
    for (let tries = 0; tries < MAX_CHANGE_TRIES; tries++) {
      const [data, version] = await this.redis.hmget(this.keys.session(sessionId), 'data', 'version');
      if (!data) return undefined;
      const session = this.parse(data, version ?? null, Date.now());
      change(session);
      const { lastUsedAt: _used, version: _version, ...stored } = session;
      const bytes = session.files.reduce((n, file) => n + file.sizeBytes, 0);
      const result = await UPDATE.run(this.redis, [this.keys.session(sessionId), this.keys.disk], [version as string, JSON.stringify(stored), bytes, session.files.length]);
      if (result === -1) return undefined;
      if (result !== 0) return { ...session, version: Number(result) };
    }
    throw new Error(`session ${sessionId}: ${MAX_CHANGE_TRIES} changes in a row lost to concurrent ones`);
  }

  async unknown(sessionIds: readonly string[]): Promise<string[]> {
    const unknown: string[] = [];
    for (const id of sessionIds) if (!(await this.redis.exists(this.keys.session(id)))) unknown.push(id);
    return unknown;
  }

  byUse(usedBefore = Number.POSITIVE_INFINITY): Promise<LastUse[]> {
    return lastUses(this.redis, this.keys.sessionsByUse, usedBefore);
  }

  free(sessionId: string, usedBefore: number, holdingOnly = false): Promise<boolean> {
    return this.runFree(sessionId, usedBefore, { holdingOnly });
  }

  private async runFree(sessionId: string, usedBefore: number, { force = false, holdingOnly = false }): Promise<boolean> {
    const freed = await FREE.run(this.redis, [this.keys.session(sessionId), this.keys.sessionsByUse, this.keys.disk], [sessionId, usedBefore, force ? 1 : 0, holdingOnly ? 1 : 0]);
    return freed === 1;
  }

  private parse(data: string, version: string | null, lastUsedAt: number): Session {
    return { ...(JSON.parse(data) as StoredSession), lastUsedAt, version: Number(version) };
  }
}
