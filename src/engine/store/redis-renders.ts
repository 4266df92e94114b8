import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';
import type { EngineKeys } from './engine-keys.ts';
import type { AddRender, LastUse, RenderOutcome, RenderStore } from './engine-store.ts';
import { lastUses } from './redis-sessions.ts';
import type { RenderJob, RenderStatus } from './renders.ts';

/** 'added' (1), 'taken' (0: the id exists) or 'no-session' (-1); counts the render as running in its session's hash. */
const ADD = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'rendering', 1)
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
return 1
`);

/** The render's fields when it is the user's (the find counts as a use), else nil. */
const FIND = new RedisScript(`
if redis.call('HGET', KEYS[1], 'user') ~= ARGV[1] then return nil end
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[3])
return redis.call('HGETALL', KEYS[1])
`);

/** Processing at ARGV[1] percent or more (1), counting a run when ARGV[2] = 1 (an engine starts it); 0 when it has ended or is gone. */
const PROGRESS = new RedisScript(`
local render = KEYS[1]
local found = redis.call('HMGET', render, 'status', 'progress')
if not found[1] or found[1] == 'completed' or found[1] == 'failed' then return 0 end
redis.call('HSET', render, 'status', 'processing', 'progress', math.max(tonumber(found[2]), tonumber(ARGV[1])))
if ARGV[2] == '1' then redis.call('HINCRBY', render, 'runs', 1) end
return 1
`);

/**
 * Ends a render that has not ended (1; else 0): its status, then field/value
 * pairs; no longer running in its session (KEYS[2], if it still exists); a
 * completed one's output counts on the disk.
 */
const FINISH = new RedisScript(`
local render = KEYS[1]
local status = redis.call('HGET', render, 'status')
if not status or status == 'completed' or status == 'failed' then return 0 end
redis.call('HSET', render, 'status', ARGV[1], unpack(ARGV, 2))
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HINCRBY', KEYS[2], 'rendering', -1) end
if ARGV[1] == 'completed' then
  redis.call('HINCRBY', KEYS[3], 'bytes', tonumber(redis.call('HGET', render, 'size')))
  redis.call('HINCRBY', KEYS[3], 'files', 1)
end
return 1
`);

/** Deletes an ended render (ARGV[3] = 1: a completed one) not used after ARGV[2] and returns its fields; nil when it runs, was used since, or is gone. */
const FREE = new RedisScript(`
local render = KEYS[1]
local found = redis.call('HMGET', render, 'status', 'file', 'size')
if not found[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return nil
end
if found[1] ~= 'completed' and (ARGV[3] == '1' or found[1] ~= 'failed') then return nil end
local used = redis.call('ZSCORE', KEYS[2], ARGV[1])
if used and tonumber(used) > tonumber(ARGV[2]) then return nil end
local fields = redis.call('HGETALL', render)
redis.call('DEL', render)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], found[2])
if found[1] == 'completed' then
  redis.call('HINCRBY', KEYS[4], 'bytes', 0 - tonumber(found[3]))
  redis.call('HINCRBY', KEYS[4], 'files', -1)
end
return fields
`);

function fieldsOf(job: RenderJob): (string | number)[] {
  return [
    'user', job.userId, 'session', job.sessionId, 'status', job.status, 'progress', job.progress,
    'draft', JSON.stringify(job.draft), 'sources', JSON.stringify(job.sources), 'file', job.fileName,
  ];
}

/** A render from HGETALL's flat reply (and its last use). */
function parse(id: string, flat: string[], lastUsedAt: number): RenderJob {
  const f: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  return {
    id,
    userId: f.user as string,
    sessionId: f.session as string,
    status: f.status as RenderStatus,
    progress: Number(f.progress),
    draft: JSON.parse(f.draft as string),
    sources: JSON.parse(f.sources as string),
    fileName: f.file as string,
    runs: Number(f.runs ?? 0),
    ...(f.duration !== undefined && { durationS: Number(f.duration) }),
    ...(f.size !== undefined && { sizeBytes: Number(f.size) }),
    ...(f.error !== undefined && { error: f.error }),
    lastUsedAt,
  };
}

export class RedisRenderStore implements RenderStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: EngineKeys,
  ) {}

  async add(job: RenderJob): Promise<AddRender> {
    const added = await ADD.run(
      this.redis,
      [this.keys.render(job.id), this.keys.rendersByUse, this.keys.session(job.sessionId), this.keys.outputs],
      [job.id, job.lastUsedAt, job.fileName, ...fieldsOf(job)],
    );
    return added === 1 ? 'added' : added === 0 ? 'taken' : 'no-session';
  }

  async has(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.render(id))) === 1;
  }

  async find(id: string, userId: string): Promise<RenderJob | undefined> {
    const now = Date.now();
    const flat = (await FIND.run(this.redis, [this.keys.render(id), this.keys.rendersByUse], [userId, now, id])) as string[] | null;
    return flat ? parse(id, flat, now) : undefined;
  }

  async get(id: string): Promise<RenderJob | undefined> {
    const [flat, used] = await Promise.all([this.redis.hgetall(this.keys.render(id)), this.redis.zscore(this.keys.rendersByUse, id)]);
    return Object.keys(flat).length > 0 ? parse(id, Object.entries(flat).flat(), Number(used ?? 0)) : undefined;
  }

  async start(id: string, progress: number): Promise<boolean> {
    return (await PROGRESS.run(this.redis, [this.keys.render(id)], [progress, 1])) === 1;
  }

  async progress(id: string, progress: number): Promise<boolean> {
    return (await PROGRESS.run(this.redis, [this.keys.render(id)], [progress, 0])) === 1;
  }

  async finish(id: string, outcome: RenderOutcome): Promise<boolean> {
    const sessionId = await this.redis.hget(this.keys.render(id), 'session');
    if (sessionId === null) return false;
    const fields =
      outcome.status === 'completed'
        ? ['progress', 100, 'duration', outcome.durationS, 'size', outcome.sizeBytes]
        : ['error', outcome.error];
    const ended = await FINISH.run(this.redis, [this.keys.render(id), this.keys.session(sessionId), this.keys.disk], [outcome.status, ...fields]);
    return ended === 1;
  }

  byUse(usedBefore = Number.POSITIVE_INFINITY): Promise<LastUse[]> {
    return lastUses(this.redis, this.keys.rendersByUse, usedBefore);
  }

  async free(id: string, usedBefore: number, holdingOnly = false): Promise<RenderJob | undefined> {
    const flat = (await FREE.run(this.redis, [this.keys.render(id), this.keys.rendersByUse, this.keys.outputs, this.keys.disk], [id, usedBefore, holdingOnly ? 1 : 0])) as string[] | null;
    return flat ? parse(id, flat, usedBefore) : undefined;
  }

  async all(): Promise<RenderJob[]> {
    const renders: RenderJob[] = [];
    for (const { id, usedAt } of await this.byUse()) {
      const flat = await this.redis.hgetall(this.keys.render(id));
      if (Object.keys(flat).length > 0) renders.push(parse(id, Object.entries(flat).flat(), usedAt));
    }
    return renders;
  }

  async unknownOutputs(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const owners = await this.redis.hmget(this.keys.outputs, ...names);
    return names.filter((_, index) => owners[index] === null);
  }
}
