import type { Config } from '../shared/infra/config.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { redisAnswers, startPrivateRedis } from './private-redis.ts';
import { Supervisor } from './supervisor.ts';

export interface AllInOne {
  api: { url: string };
  config: Config;
  close(): Promise<void>;
}

/**
 * API, worker and (unless BACKEND_URL points elsewhere) the embedded engine,
 * each in its own child process under a supervisor that restarts a part that
 * dies: the first-run and demo mode. The API and the worker get the engine's
 * real URL. Without a Redis at REDIS_URL it starts a private redis-server
 * when one is on the PATH.
 */
export async function startAllInOne(base: Config, logger: Logger): Promise<AllInOne> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
  };
  try {
    // the parts log at this logger's level (the demo is quieter than LOG_LEVEL)
    let config: Config = { ...base, LOG_LEVEL: logger.level as Config['LOG_LEVEL'] };
    // a private Redis stands in only for a plain single Redis (Sentinel, Cluster and TLS are an operator's, and waited for)
    const plainRedis = !config.REDIS_SENTINELS && !config.REDIS_CLUSTER_NODES && config.REDIS_URL.startsWith('redis://');
    if (plainRedis && !(await redisAnswers(config.REDIS_URL))) {
      const redis = await startPrivateRedis().catch((error: Error) => {
        throw new Error(`No Redis answers at ${config.REDIS_URL} and redis-server could not be started (${error.message}). Set REDIS_URL or install redis-server.`);
      });
      closers.push(redis.stop);
      logger.warn({ redis: redis.url }, `no Redis at ${config.REDIS_URL}; started a private redis-server (nothing is kept when it stops)`);
      config = { ...config, REDIS_URL: redis.url };
    }
    const supervisor = new Supervisor(logger.child({ component: 'supervisor' }), { stopTimeoutMs: (config.SHUTDOWN_GRACE_S + 15) * 1000 });
    closers.push(() => supervisor.stop());
    const backendUrl = config.BACKEND_URL || (await supervisor.start({ name: 'engine', config: { ...config, ENGINE_PORT: 0 }, port: 'ENGINE_PORT' }));
    const parts = { ...config, BACKEND_URL: backendUrl ?? '' };
    const [, apiUrl] = await Promise.all([supervisor.start({ name: 'worker', config: parts }), supervisor.start({ name: 'api', config: parts, port: 'PORT' })]);
    return { api: { url: apiUrl as string }, config, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
