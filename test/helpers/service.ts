import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startAllInOne } from '../../src/cli/all-in-one.ts';
import { loadConfig, type Config } from '../../src/shared/config.ts';
import { createLogger } from '../../src/shared/logger.ts';

export interface TestService {
  url: string;
  config: Config;
  dir: string;
  close(): Promise<void>;
}

/** A whole service (API, worker, embedded engine) on loopback ports, with its own Redis prefix and folders. */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'i2v-test-'));
  const config = loadConfig({
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    STORAGE_DIR: path.join(dir, 'storage'),
    ENGINE_DIR: path.join(dir, 'engine'),
    PORT: '0',
    LOG_LEVEL: 'silent',
    BACKEND_POLL_INTERVAL_MS: '100',
    URL_FETCH_ALLOWLIST: '127.0.0.1',
    ...env,
  });
  const service = await startAllInOne(config, createLogger({ level: config.LOG_LEVEL }));
  return {
    url: service.api.url,
    config,
    dir,
    async close() {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForJob(url: string, id: string, key = 'dev-key', timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } });
    const job = (await response.json()) as Record<string, any>;
    if (!['queued', 'running'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}/${job.stage} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
