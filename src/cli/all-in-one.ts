import { startApi, type RunningApi } from '../api/server.ts';
import type { Config } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import { startWorker } from '../workers/main.ts';
import { startEngineProcess } from './engine-process.ts';
import { redisAnswers, startPrivateRedis } from './private-redis.ts';

export interface AllInOne {
  api: RunningApi;
  config: Config;
  close(): Promise<void>;
}

/**
 * API, worker and (unless BACKEND_URL points elsewhere) the embedded engine in
 * one process: the first-run and demo mode. Without a Redis at REDIS_URL it
 * starts a private redis-server when one is on the PATH.
 */
export async function startAllInOne(base: Config, logger: Logger): Promise<AllInOne> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
  };
  try {
    let config = base;
    if (!(await redisAnswers(config.REDIS_URL))) {
      const redis = await startPrivateRedis().catch((error: Error) => {
        throw new Error(`No Redis answers at ${config.REDIS_URL} and redis-server could not be started (${error.message}). Set REDIS_URL or install redis-server.`);
      });
      closers.push(redis.stop);
      logger.warn({ redis: redis.url }, `no Redis at ${config.REDIS_URL}; started a private redis-server (nothing is kept when it stops)`);
      config = { ...config, REDIS_URL: redis.url };
    }
    let backendUrl = config.BACKEND_URL;
    if (!backendUrl) {
      const engine = await startEngineProcess({ ...config, ENGINE_PORT: 0 }, logger.child({ component: 'engine' }));
      closers.push(engine.close);
      backendUrl = engine.url;
    }
    const worker = await startWorker(config, logger.child({ component: 'worker' }), backendUrl);
    closers.push(worker.close);
    const api = await startApi(config, logger.child({ component: 'api' }));
    closers.push(api.close);
    return { api, config, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
