import { createHash } from 'node:crypto';
import type { Redis } from './redis.ts';

/**
 * A Lua script called by its SHA1 (EVALSHA), sent whole (EVAL) only when the
 * server does not know it yet: one short command per call, and no MULTI,
 * whose ioredis pipeline copies every script BullMQ defined on the
 * connection each time it is made.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
