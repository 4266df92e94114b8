import { BackendClient } from '../shared/backend/client.ts';
import type { Config } from '../shared/config.ts';
import { JobRecords } from '../shared/job-record.ts';
import type { Logger } from '../shared/logger.ts';
import { SKILL_SOURCE } from '../shared/presets.ts';
import { createRedis } from '../shared/redis.ts';
import { LocalStorage } from '../shared/storage.ts';
import { createBackendCall } from './backend-call.ts';
import { BackendTokens } from './backend-token.ts';
import { createRenderWorker } from './render-worker.ts';

export interface RunningWorker {
  close(): Promise<void>;
}

/** The worker process: runs the render lifecycle for jobs from the queue. */
export async function startWorker(config: Config, logger: Logger, backendUrl: string): Promise<RunningWorker> {
  const redis = createRedis(config.REDIS_URL);
  const client = new BackendClient({
    baseUrl: backendUrl,
    skill: { source: SKILL_SOURCE.motion, version: config.SKILL_VERSION, platform: config.SKILL_PLATFORM },
  });
  const tokens = new BackendTokens(redis, config.REDIS_PREFIX, backendUrl, {
    configuredToken: config.NEMO_TOKEN,
    configuredClientId: config.NEMO_CLIENT_ID,
    requestAnonymousToken: (clientId) => client.anonymousToken(clientId),
  });
  const worker = createRenderWorker(
    {
      records: new JobRecords(redis, config.REDIS_PREFIX),
      storage: new LocalStorage(config.STORAGE_DIR),
      logger,
      backend: createBackendCall((token) => client.withToken(token), tokens),
      settings: {
        pollIntervalMs: config.BACKEND_POLL_INTERVAL_MS,
        urlFetchAllowlist: config.URL_FETCH_ALLOWLIST,
        maxDownloadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
      },
    },
    { connection: redis, prefix: config.REDIS_PREFIX, concurrency: config.WORKER_CONCURRENCY },
  );
  await worker.waitUntilReady();
  logger.info({ backend: backendUrl, concurrency: config.WORKER_CONCURRENCY }, 'worker ready');
  return {
    async close() {
      await worker.close();
      await client.close();
      redis.disconnect();
    },
  };
}
