import { Agent } from 'undici';
import { skillForPreset } from '../shared/backend/attribution.ts';
import { BackendUrls } from '../shared/backend/backend-urls.ts';
import { BackendClient } from '../shared/backend/client.ts';
import type { Config } from '../shared/infra/config.ts';
import { BatchRecords } from '../shared/jobs/batch-record.ts';
import { batchView } from '../shared/jobs/batch-view.ts';
import { JobRecords } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { PRESETS, type Preset } from '../shared/jobs/presets.ts';
import { cancelChannel, createRenderQueue } from '../shared/infra/queues.ts';
import { createRedis, logConnectionState, logQueueErrors } from '../shared/infra/redis.ts';
import { AdminKey } from '../shared/infra/admin-key.ts';
import { openQueueSet } from '../shared/infra/queue-set.ts';
import { createStorage } from '../shared/storage/create-storage.ts';
import { UploadFiles } from '../shared/jobs/upload-files.ts';
import { createWebhookQueue, webhookBaseUrl } from '../shared/webhooks/events.ts';
import { createWebhookParts } from '../shared/webhooks/setup.ts';
import { createBackendCalls } from './backend-call.ts';
import { BackendTokens } from './backend-token.ts';
import { createBatchWorker } from './batch-worker.ts';
import { startCreditsRefresh } from './credits-refresh.ts';
import { CreditsCache } from '../shared/backend/credits-cache.ts';
import { BatchSessions } from './batch-session.ts';
import { Cancellation } from './cancellation.ts';
import { createRenderWorker } from './render-worker.ts';
import { ParkedJobs } from './parking.ts';
import { RenderCacheIndex, storedFilesTtlS } from './render-cache/cache-index.ts';
import { backendIdentity } from './render-cache/cache-key.ts';
import { RenderCache } from './render-cache/render-cache.ts';
import { startMetricsServer } from './metrics-server.ts';
import { startRetention } from './retention.ts';
import { startWatchdog } from './watchdog.ts';
import { createWebhookDeliveryWorker } from './webhook-delivery.ts';

export interface RunningWorker {
  /** where GET /metrics answers, when METRICS_PORT is set */
  metricsUrl?: string;
  close(): Promise<void>;
}

/** The worker process: runs the render lifecycle for jobs from the queue. */
export async function startWorker(config: Config, logger: Logger, backendUrl: string): Promise<RunningWorker> {
  const redis = createRedis(config);
  logConnectionState(redis, logger, 'worker');
  const connections = new Agent({ keepAliveTimeout: 30_000 });
  // one set of URLs for every client, so that all of them learn which URLs answer
  const backendUrls = new BackendUrls(backendUrl, { cooldownMs: config.BACKEND_URL_COOLDOWN_S * 1000 });
  const clients = new Map(
    PRESETS.map((preset) => [
      preset,
      new BackendClient({
        baseUrl: backendUrls,
        skill: skillForPreset(preset, config.SKILL_VERSION, config.SKILL_PLATFORM),
        dispatcher: connections,
        timeouts: { sseIdleMs: config.SSE_IDLE_TIMEOUT_S * 1000 },
      }),
    ]),
  );
  const clientFor = (preset: Preset) => clients.get(preset) as BackendClient;
  const tokens = new BackendTokens(
    redis,
    config.REDIS_PREFIX,
    backendUrl,
    {
      configuredToken: config.NEMO_TOKEN,
      configuredClientId: config.NEMO_CLIENT_ID,
      requestAnonymousToken: (clientId) => clientFor('motion').anonymousToken(clientId),
    },
    { firstWaitMs: config.NEMO_TOKEN_RETRY_S * 1000, maxWaitMs: 3_600_000 },
    logger.child({ component: 'backend-token' }),
  );
  const records = new JobRecords(redis, config.REDIS_PREFIX, logger.child({ component: 'job-records' }));
  const batches = new BatchRecords(redis, config.REDIS_PREFIX);
  const webhookQueue = createWebhookQueue(redis, config.REDIS_PREFIX);
  const storage = await createStorage(config);
  const webhooks = createWebhookParts(config, redis, records, webhookQueue, logger.child({ component: 'webhooks' }), storage);
  const cancelSubscriber = createRedis(config);
  logConnectionState(cancelSubscriber, logger, 'worker-cancel');
  const cancellation = await Cancellation.listen(cancelSubscriber, cancelChannel(config.REDIS_PREFIX));
  const retry = { attempts: config.JOB_ATTEMPTS, backoffMs: config.JOB_BACKOFF_MS };
  // the queue parked jobs are promoted through (a job waiting for its tenant's place or its session's turn)
  const parkingQueue = createRenderQueue(redis, config.REDIS_PREFIX, retry);
  const parking = new ParkedJobs(redis, records, parkingQueue, config.TENANT_MAX_RUNNING, logger.child({ component: 'parking' }));
  const worker = createRenderWorker(
    {
      records,
      storage,
      logger,
      backendFor: createBackendCalls(clientFor, tokens),
      settings: {
        pollIntervalMs: config.BACKEND_POLL_INTERVAL_MS,
        renderTimeoutMs: config.RENDER_TIMEOUT_S * 1000,
        urlFetchAllowlist: config.URL_FETCH_ALLOWLIST,
        maxDownloadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
        maxImagePixels: config.MAX_IMAGE_PIXELS,
        landingWaitMs: config.INSTRUCTION_LANDING_WAIT_S * 1000,
      },
      batchSessions: new BatchSessions(redis, batches, config.REDIS_PREFIX),
      parking,
      tenantMaxRunning: config.TENANT_MAX_RUNNING,
      webhooks: webhooks.emitter,
      renderCache: config.RENDER_CACHE
        ? new RenderCache(new RenderCacheIndex(redis, config.REDIS_PREFIX, storedFilesTtlS(config.RETENTION_DAYS, config.HISTORY_DAYS)), records, backendIdentity(backendUrl))
        : undefined,
    },
    {
      connection: redis,
      prefix: config.REDIS_PREFIX,
      concurrency: config.WORKER_CONCURRENCY,
      cancellation,
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: config.WORKER_MAX_STALLS,
      jobTimeoutS: config.JOB_TIMEOUT_S,
      classifyContext: async (token) => ({ anonymousUserId: await tokens.anonymousUser(token), registrationUrl: config.BACKEND_REGISTRATION_URL, retryAfterMaxS: config.BACKEND_RETRY_AFTER_MAX_S }),
    },
  );
  await worker.waitUntilReady();
  const batchWorker = createBatchWorker(
    {
      records,
      batches,
      logger,
      historyS: config.HISTORY_DAYS * 86_400,
      onCompleted: async (batch, jobs) =>
        void (await webhooks.emitter.emitBatchEvent({
          tenant: batch.tenant,
          batchId: batch.id,
          data: batchView(batch, jobs, webhookBaseUrl(config)),
          url: batch.webhookUrl,
          events: batch.webhookEvents,
        })),
    },
    redis,
    config.REDIS_PREFIX,
  );
  const creditsRefresh = startCreditsRefresh(createBackendCalls(clientFor, tokens)('motion'), new CreditsCache(redis, config.REDIS_PREFIX), config.CREDITS_REFRESH_S * 1000, logger);
  const watchdog = await startWatchdog(
    redis,
    config.REDIS_PREFIX,
    { records, batches, logger, webhooks: webhooks.emitter, retry, parking },
    config.WATCHDOG_INTERVAL_S * 1000,
  );
  const retention = await startRetention(
    redis,
    config.REDIS_PREFIX,
    { records, uploads: new UploadFiles(redis, config.REDIS_PREFIX), storage, logger: logger.child({ component: 'retention' }) },
    { retentionDays: config.RETENTION_DAYS, historyDays: config.HISTORY_DAYS, everyMs: config.RETENTION_INTERVAL_S * 1000 },
  );
  // a Redis that comes back without its data has lost the schedulers too
  const reschedule = () =>
    void Promise.all([watchdog.schedule(), retention.schedule()]).catch((error: unknown) => logger.warn({ err: error }, 'could not restore the watchdog and retention schedules'));
  redis.on('ready', reschedule);
  // deliveries run in their own queue and worker, never inside a render job
  const deliveries = createWebhookDeliveryWorker(
    {
      store: webhooks.store,
      secrets: webhooks.secrets,
      logger: logger.child({ component: 'webhooks' }),
      allowlist: config.URL_FETCH_ALLOWLIST,
      retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: config.WEBHOOK_TIMEOUT_S * 1000,
    },
    { connection: redis, prefix: config.REDIS_PREFIX },
  );
  await deliveries.waitUntilReady();
  logQueueErrors(logger, worker, batchWorker, deliveries, webhookQueue, parkingQueue);
  // loadConfig refuses METRICS_PORT without ADMIN_KEY
  const metricsServer =
    config.METRICS_PORT === undefined || !config.ADMIN_KEY
      ? undefined
      : await startMetricsServer({ host: config.HOST, port: config.METRICS_PORT, adminKey: new AdminKey(config.ADMIN_KEY), queues: openQueueSet(redis, config.REDIS_PREFIX) });
  logger.info({ backend: backendUrls.describe(), concurrency: config.WORKER_CONCURRENCY, metrics: metricsServer?.url }, 'worker ready');
  return {
    metricsUrl: metricsServer?.url,
    /** Stops taking jobs; running ones get SHUTDOWN_GRACE_S to finish, then are stopped where they are and retried by another worker from their checkpoints. */
    async close() {
      const graceful = worker.close();
      const timer = setTimeout(() => cancellation.abortAll(), config.SHUTDOWN_GRACE_S * 1000);
      await graceful;
      clearTimeout(timer);
      await metricsServer?.close();
      await batchWorker.close();
      await deliveries.close();
      await webhookQueue.close();
      await parkingQueue.close();
      creditsRefresh.stop();
      redis.off('ready', reschedule);
      await watchdog.close();
      await retention.close();
      storage.close();
      await cancellation.close();
      await connections.close();
      redis.disconnect();
    },
  };
}
