import { Redis, type RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

/**
 * A Redis connection. BullMQ workers need `maxRetriesPerRequest: null` so a
 * Redis restart pauses them instead of failing jobs.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}
