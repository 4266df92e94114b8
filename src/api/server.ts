import { apiKeysByKey, DEV_TENANT, type Config } from '../shared/config.ts';
import { JobRecords } from '../shared/job-record.ts';
import type { Logger } from '../shared/logger.ts';
import { createRenderQueue } from '../shared/queues.ts';
import { createRedis } from '../shared/redis.ts';
import { LocalStorage } from '../shared/storage.ts';
import { buildApi } from './app.ts';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** The API process: HTTP only; it validates, stores inputs and enqueues. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const redis = createRedis(config.REDIS_URL);
  const queue = createRenderQueue(redis, config.REDIS_PREFIX);
  if (config.API_KEYS.length === 0) {
    logger.warn({ tenant: DEV_TENANT.tenant }, `no API_KEYS set: running with one tenant "${DEV_TENANT.tenant}" whose key is "${DEV_TENANT.key}"`);
  }
  const app = await buildApi({
    logger,
    records: new JobRecords(redis, config.REDIS_PREFIX),
    storage: new LocalStorage(config.STORAGE_DIR),
    queue,
    apiKeys: apiKeysByKey(config),
    maxUploadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
    publicUrl: config.PUBLIC_URL,
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return {
    url: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`,
    async close() {
      await app.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
