import type { Redis } from 'ioredis';

async function* keysOf(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Deletes every key of a benchmark's prefix (the Redis is shared: nothing else). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  let dropped = 0;
  for await (const keys of keysOf(redis, prefix)) dropped += await redis.unlink(...keys);
  return dropped;
}

/** Bytes held by a prefix's keys (MEMORY USAGE of each): what this run costs Redis, whoever else uses it. */
export async function prefixMemory(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let keys = 0;
  let bytes = 0;
  for await (const batch of keysOf(redis, prefix)) {
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, used] of (await pipeline.exec()) ?? []) bytes += Number(used ?? 0);
    keys += batch.length;
  }
  return { keys, bytes };
}
