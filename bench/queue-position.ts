/**
 * queue_position with 100,000 jobs waiting: GET /v1/jobs/{id} of the next
 * job in line (the far end of the wait list for LPOS), read the old way (every job in BullMQ's wait list, the place
 * found with LPOS: a scan of the list on every read) and the new way (every
 * job prioritized, as this service adds them: ZRANK, O(log N)), in one run
 * against the same API. Prints median and p99 of each.
 * `npx tsx bench/queue-position.ts`; JOBS (100000), SAMPLES (200).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startApi } from '../src/api/server.ts';
import { loadConfig } from '../src/shared/infra/config.ts';
import { createLogger } from '../src/shared/infra/logger.ts';
import { createRedis } from '../src/shared/infra/redis.ts';
import { newId } from '../src/shared/infra/ids.ts';
import { prioritizedKey, waitListKey } from '../src/shared/infra/queues.ts';
import { median, percentile, round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const JOBS = Number(process.env.JOBS ?? 100_000);
const SAMPLES = Number(process.env.SAMPLES ?? 200);

const dir = await mkdtemp(path.join(tmpdir(), 'i2v-bench-'));
const config = loadConfig({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `bench-${randomBytes(6).toString('hex')}`, STORAGE_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' });
const redis = createRedis(config.REDIS_URL);
const api = await startApi(config, createLogger({ level: 'silent' }), 'http://127.0.0.1:9');
try {
  const ids = Array.from({ length: JOBS }, () => newId('job'));
  // the next in line: at the wait list's tail, where LPOS (from the head) looks last
  const next = ids[0] as string;
  for (let i = 0; i < ids.length; i += 5000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 5000)) {
      pipeline.hset(`${config.REDIS_PREFIX}:job:${id}`, { id, tenant: 'dev', status: 'queued', stage: 'queued', progress: '0', preset: 'motion', prompt: '', options: '{}', inputs: '[]', createdAt: new Date().toISOString(), attempts: '0', checkpoint: '{}', metadata: '{}', webhookEvents: '[]' });
      pipeline.lpush(waitListKey(config.REDIS_PREFIX), id);
    }
    await pipeline.exec();
  }
  const measure = async (): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES + 10; i++) {
      const started = performance.now();
      const job = (await (await fetch(`${api.url}/v1/jobs/${next}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as { queue_position: number };
      if (job.queue_position !== 0) throw new Error(`queue_position ${job.queue_position}, expected 0`);
      if (i >= 10) times.push(performance.now() - started);
    }
    return times;
  };
  const old = await measure();
  // the same jobs as BullMQ keeps prioritized ones (score priority × 2^32 + counter)
  await redis.del(waitListKey(config.REDIS_PREFIX));
  for (let i = 0; i < ids.length; i += 5000) {
    const args = ids.slice(i, i + 5000).flatMap((id, j) => [700_000 * 2 ** 32 + i + j + 1, id]);
    await redis.zadd(prioritizedKey(config.REDIS_PREFIX), ...args);
  }
  const now = await measure();
  const row = (name: string, t: number[]) => ({ way: name, 'median ms': round(median(t), 2), 'p99 ms': round(percentile(t, 99), 2) });
  printTable(`GET /v1/jobs/{id} of the next of ${JOBS} waiting jobs, ${SAMPLES} reads each`, [row('old: LPOS over the wait list', old), row('new: ZRANK in the prioritized set', now)]);
} finally {
  await api.close();
  const keys = await redis.keys(`${config.REDIS_PREFIX}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
}
