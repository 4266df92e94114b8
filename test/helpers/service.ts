import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startApi } from '../../src/api/server.ts';
import type { EngineOptions } from '../../src/engine/options.ts';
import { engineRedisPrefixOf, loadConfig, type Config } from '../../src/shared/infra/config.ts';
import { JobRecords } from '../../src/shared/jobs/job-record.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createStorage } from '../../src/shared/storage/create-storage.ts';
import type { Storage } from '../../src/shared/storage/storage.ts';
import { UploadFiles } from '../../src/shared/jobs/upload-files.ts';
import { startWorker } from '../../src/workers/main.ts';
import { dropEngineKeys, startTestEngine } from '../engine/protocol-client.ts';

export interface TestService {
  url: string;
  engineUrl: string;
  config: Config;
  dir: string;
  /** the job records, read straight from Redis (checkpoints, which the API does not show) */
  records: JobRecords;
  /** the worker's metrics server, when env sets METRICS_PORT (0: any free port) */
  workerMetricsUrl?: string;
  /** the index of uploaded files by upload time (retention reads it) */
  uploadFiles: UploadFiles;
  /** the storage the service uses (STORAGE_DIR, or the bucket when env says STORAGE=s3) */
  storage: Storage;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  env?: Record<string, string>;
  /** options of the embedded engine the worker talks to */
  engine?: Partial<EngineOptions> & { port?: number };
  /** the worker's and the API's BACKEND_URL, from the test engine's URL (e.g. a list with it); default: BACKEND_URL from env, else the engine */
  backendUrl?: (engineUrl: string) => string;
  /** false: no worker, so jobs stay queued */
  worker?: boolean;
  /** where the API's and the worker's log lines go, for tests that read them (LOG_LEVEL still applies) */
  logDestination?: DestinationStream;
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    STORAGE_DIR: path.join(dir, 'storage'),
    PORT: '0',
    LOG_LEVEL: 'silent',
    BACKEND_POLL_INTERVAL_MS: '100',
    URL_FETCH_ALLOWLIST: '127.0.0.1',
    // tests send the same photo and options again and again and count what the backend renders; the render cache's own tests turn it on
    RENDER_CACHE: 'false',
    ...env,
  });
}

/** API, worker and embedded engine on loopback ports, with their own Redis prefix and folders. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'i2v-test-'));
  const config = testConfig(dir, options.env);
  const logger = createLogger({ level: config.LOG_LEVEL, destination: options.logDestination });
  // the engine's keys are named like the service's (<REDIS_PREFIX>:engine) but kept in the suite's Redis: a test that stops, cuts or fails over its own Redis stops the service's, not the backend's
  const engine = await startTestEngine({ noTextRate: 0.3, redisPrefix: engineRedisPrefixOf(config), ...options.engine });
  const backendUrl = options.backendUrl?.(engine.url) ?? (config.BACKEND_URL || engine.url);
  const worker = options.worker === false ? undefined : await startWorker(config, logger, backendUrl);
  const api = await startApi(config, logger, backendUrl);
  const redis = createRedis(config);
  // tests that stop Redis would see this connection's every reconnect attempt on stderr; the service logs its own
  redis.on('error', () => {});
  const storage = await createStorage(config);
  return {
    url: api.url,
    engineUrl: engine.url,
    workerMetricsUrl: worker?.metricsUrl,
    config,
    dir,
    records: new JobRecords(redis, config.REDIS_PREFIX),
    uploadFiles: new UploadFiles(redis, config.REDIS_PREFIX),
    storage,
    async close() {
      storage.close();
      redis.disconnect();
      await api.close();
      await worker?.close();
      await engine.close();
      await dropEngineKeys(engine.redisPrefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForJob(url: string, id: string, key = 'dev-key', timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } });
    if (response.status === 429) {
      // polled over RATE_LIMIT_PER_MINUTE: wait as the API asks, as a client would
      await response.body?.cancel();
      await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    const job = (await response.json()) as Record<string, any>;
    if (!['queued', 'running'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}/${job.stage} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST /v1/jobs with a JSON body. */
export function postJob(url: string, body: unknown, key = 'dev-key', headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
