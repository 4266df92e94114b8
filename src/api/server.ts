import { FlowProducer, type Queue } from 'bullmq';
import { request } from 'undici';
import { apiKeysByKey, backendUrlOf, DEV_TENANT, type Config } from '../shared/infra/config.ts';
import { BatchRecords } from '../shared/jobs/batch-record.ts';
import { CreditsCache } from '../shared/backend/credits-cache.ts';
import { JobRecords } from '../shared/jobs/job-record.ts';
import { createLogger, type Logger } from '../shared/infra/logger.ts';
import { cancelChannel, createRenderQueue, queuePosition, type RenderJobData } from '../shared/infra/queues.ts';
import { createRedis, createRequestRedis, logConnectionState, logQueueErrors, type Redis } from '../shared/infra/redis.ts';
import { trackQueues } from '../shared/infra/metrics/queue-counts.ts';
import { openQueueSet } from '../shared/infra/queue-set.ts';
import { createStorage } from '../shared/storage/create-storage.ts';
import type { Storage } from '../shared/storage/storage.ts';
import { createWebhookQueue, type WebhookJobData } from '../shared/webhooks/events.ts';
import { createWebhookParts } from '../shared/webhooks/setup.ts';
import { TokenRejections } from '../shared/backend/token-rejection.ts';
import { parseBackendUrls } from '../shared/backend/backend-urls.ts';
import { buildApi } from './http/app.ts';
import { BatchSubmission } from './services/batch-submission.ts';
import { Idempotency } from './services/idempotency.ts';
import { JobSubmission } from './services/job-submission.ts';
import { JobWatcher } from './services/job-watcher.ts';
import { batchRedisWrites } from './services/redis-write-batching.ts';
import type { ApiServices } from './services/api-services.ts';
import { TemplateStore } from './services/template-store.ts';
import { UploadStore } from './services/upload-store.ts';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

async function answers(url: URL): Promise<boolean> {
  try {
    const { body } = await request(url, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
    await body.dump();
    return true;
  } catch {
    return false;
  }
}

/** Whether any of the backend's URLs answers (calls fail over to it). */
async function anyAnswers(urls: readonly URL[]): Promise<boolean> {
  const answered = await Promise.all(urls.map(answers));
  return answered.includes(true);
}

/** How long /readyz waits for each check before counting it as down. */
export const READY_CHECK_MS = 2000;

/** A check's answer, or `fallback` when it takes longer than `ms`. */
function within<T>(ms: number, check: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(resolve, ms, fallback)));
  return Promise.race([check, late]).finally(() => clearTimeout(timer));
}

export function createApiServices(
  config: Config,
  connections: {
    redis: Redis;
    subscriber: Redis;
    queue: Pick<Queue<RenderJobData>, 'add' | 'getJob'>;
    flows: Pick<FlowProducer, 'add'>;
    storage: Storage;
    /** where webhook events are enqueued; made on first use when not given */
    webhookQueue?: Pick<Queue<WebhookJobData>, 'add'>;
  },
  backendUrl: string,
  logger: Logger = createLogger({ level: 'silent' }),
): ApiServices {
  const { redis, subscriber, queue, flows, storage } = connections;
  let lazyWebhookQueue: Queue<WebhookJobData> | undefined;
  const webhookQueue = connections.webhookQueue ?? {
    add: (...args: Parameters<Queue<WebhookJobData>['add']>) => (lazyWebhookQueue ??= createWebhookQueue(redis, config.REDIS_PREFIX)).add(...args),
  };
  const records = new JobRecords(redis, config.REDIS_PREFIX, logger.child({ component: 'job-records' }));
  const submission = new JobSubmission(records, queue, new Idempotency(redis, config.REDIS_PREFIX), storage, config.URL_FETCH_ALLOWLIST, {
    tenantMaxQueued: config.TENANT_MAX_QUEUED,
    queueMaxWaiting: config.QUEUE_MAX_WAITING,
  });
  const batches = new BatchRecords(redis, config.REDIS_PREFIX);
  const retry = { attempts: config.JOB_ATTEMPTS, backoffMs: config.JOB_BACKOFF_MS };
  const tokenRejections = new TokenRejections(redis, config.REDIS_PREFIX);
  const { urls: backendUrls } = parseBackendUrls(backendUrl);
  return {
    records,
    storage,
    queue,
    submission,
    batches,
    credits: new CreditsCache(redis, config.REDIS_PREFIX),
    batchSubmission: new BatchSubmission(submission, records, batches, flows, retry),
    watcher: new JobWatcher(subscriber, records),
    uploads: new UploadStore(redis, config.REDIS_PREFIX),
    templates: new TemplateStore(redis, config.REDIS_PREFIX, config.TEMPLATES_MAX_PER_TENANT),
    webhooks: createWebhookParts(config, redis, records, webhookQueue, logger.child({ component: 'webhooks' }), storage),
    queuePosition: (jobId) => queuePosition(redis, config.REDIS_PREFIX, jobId),
    announceCancel: async (jobId) => void (await redis.publish(cancelChannel(config.REDIS_PREFIX), jobId)),
    readiness: async () => {
      const [redisUp, backendUp, tokenRejection] = await Promise.all([
        within(READY_CHECK_MS, redis.ping().then((r) => r === 'PONG', () => false), false),
        within(READY_CHECK_MS, anyAnswers(backendUrls), false),
        within(READY_CHECK_MS, tokenRejections.read().catch(() => undefined), undefined),
      ]);
      return { redis: redisUp, backend: backendUp, tokenRejection };
    },
    maxPixels: config.MAX_IMAGE_PIXELS,
    publicUrl: config.PUBLIC_URL,
    keepAliveMs: config.SSE_KEEPALIVE_S * 1000,
  };
}

/** The API process: HTTP only; it validates, stores inputs and enqueues. */
export async function startApi(config: Config, logger: Logger, backendUrl = backendUrlOf(config)): Promise<RunningApi> {
  const redis = createRequestRedis(config, config.REDIS_TIMEOUT_S * 1000);
  logConnectionState(redis, logger, 'api');
  batchRedisWrites(redis);
  const subscriber = createRedis(config);
  logConnectionState(subscriber, logger, 'api-subscriber');
  const queue = createRenderQueue(redis, config.REDIS_PREFIX, { attempts: config.JOB_ATTEMPTS, backoffMs: config.JOB_BACKOFF_MS });
  if (config.API_KEYS.length === 0) {
    logger.warn({ tenant: DEV_TENANT.tenant }, `no API_KEYS set: running with one tenant "${DEV_TENANT.tenant}" whose key is "${DEV_TENANT.key}"`);
  }
  const flows = new FlowProducer({ connection: redis, prefix: config.REDIS_PREFIX });
  const webhookQueue = createWebhookQueue(redis, config.REDIS_PREFIX);
  // every queue, for the operator (dashboard, queue gauges, stats): only with ADMIN_KEY
  const adminQueues = config.ADMIN_KEY ? openQueueSet(redis, config.REDIS_PREFIX) : [];
  logQueueErrors(logger, queue, flows, webhookQueue, ...adminQueues);
  const untrackQueues = trackQueues(adminQueues);
  const storage = await createStorage(config);
  const services = createApiServices(config, { redis, subscriber, queue, flows, webhookQueue, storage }, backendUrl, logger);
  const app = await buildApi(services, {
    logger,
    apiKeys: apiKeysByKey(config),
    maxUploadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
    rateLimit: { perMinute: config.RATE_LIMIT_PER_MINUTE, redis, nameSpace: `${config.REDIS_PREFIX}:rate-limit:` },
    admin: config.ADMIN_KEY ? { key: config.ADMIN_KEY, queues: adminQueues } : undefined,
    corsOrigins: config.CORS_ORIGINS,
    timeouts: { headersMs: config.HTTP_HEADERS_TIMEOUT_S * 1000, requestMs: config.HTTP_REQUEST_TIMEOUT_S * 1000, keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_S * 1000 },
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return {
    url: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`,
    async close() {
      await app.close();
      await services.watcher.close();
      await queue.close();
      await flows.close();
      await webhookQueue.close();
      untrackQueues();
      await Promise.all(adminQueues.map((adminQueue) => adminQueue.close()));
      storage.close();
      redis.disconnect();
    },
  };
}
