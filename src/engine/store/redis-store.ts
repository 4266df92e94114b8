import type { Redis } from '../../shared/infra/redis.ts';
import type { EngineKeys } from './engine-keys.ts';
import type { EngineStore, FreedKind } from './engine-store.ts';
import { RedisAccountStore } from './redis-accounts.ts';
import { RedisRenderStore } from './redis-renders.ts';
import { RedisSessionStore } from './redis-sessions.ts';

const FREED_KINDS: readonly FreedKind[] = ['sessions', 'renders', 'leftovers'];

/** The engine's store in Redis under `keys.prefix`: every engine process on that prefix shares it. */
export function createRedisStore(redis: Redis, keys: EngineKeys, accounts: { initialCredits: number }): EngineStore {
  return {
    accounts: new RedisAccountStore(redis, keys, accounts.initialCredits),
    sessions: new RedisSessionStore(redis, keys),
    renders: new RedisRenderStore(redis, keys),
    async disk() {
      const [bytes, files] = await redis.hmget(keys.disk, 'bytes', 'files');
      return { bytes: Number(bytes ?? 0), files: Number(files ?? 0) };
    },
    freed: {
      async add(kind, count = 1) {
        await redis.hincrby(keys.counters, `freed_${kind}`, count);
      },
      async read() {
        const counts = await redis.hmget(keys.counters, ...FREED_KINDS.map((kind) => `freed_${kind}`));
        return Object.fromEntries(FREED_KINDS.map((kind, i) => [kind, Number(counts[i] ?? 0)])) as Record<FreedKind, number>;
      },
    },
    async drop() {
      await dropKeys(redis, keys.prefix);
    },
    close() {
      redis.disconnect();
    },
  };
}

/** Deletes every key under `prefix:` (on a Cluster, every node holding one: the hash tag keeps them on one). */
export async function dropKeys(redis: Redis, prefix: string): Promise<void> {
  const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await node.unlink(...found);
    } while (cursor !== '0');
  }
}
