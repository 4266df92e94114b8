import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAllInOne } from '../../src/cli/all-in-one.ts';
import { redisAnswers } from '../../src/cli/private-redis.ts';
import { loadConfig } from '../../src/shared/config.ts';
import { createLogger } from '../../src/shared/logger.ts';

describe('the all-in-one process', () => {
  it('starts a private redis-server when none answers at REDIS_URL, and stops it on close', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-aio-'));
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', STORAGE_DIR: dir, ENGINE_DIR: path.join(dir, 'engine'), LOG_LEVEL: 'silent' });
    const service = await startAllInOne(config, createLogger({ level: 'silent' }));
    try {
      expect(service.config.REDIS_URL).not.toBe('redis://127.0.0.1:1');
      expect(await redisAnswers(service.config.REDIS_URL)).toBe(true);
      const health = await fetch(`${service.api.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(await redisAnswers(service.config.REDIS_URL)).toBe(false);
  });
});
