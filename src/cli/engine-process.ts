import path from 'node:path';
import { engineRedisPrefixOf, type Config } from '../shared/infra/config.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { startEngine } from '../engine/app.ts';

/** The embedded engine as its own process (or inside the all-in-one one). */
export async function startEngineProcess(config: Config, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const engine = await startEngine({
    host: config.ENGINE_HOST,
    port: config.ENGINE_PORT,
    dataDir: path.resolve(config.ENGINE_DIR),
    logger,
    redis: config,
    redisPrefix: engineRedisPrefixOf(config),
    staticTokens: config.NEMO_TOKEN ? [config.NEMO_TOKEN] : [],
    urlFetchAllowlist: config.URL_FETCH_ALLOWLIST,
    maxUploadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
    faults: config.ENGINE_FAULTS,
    benchmark: config.ENGINE_BENCHMARK,
    renderConcurrency: config.ENGINE_RENDER_CONCURRENCY,
    ttlMs: config.ENGINE_TTL_S * 1000,
    maxDiskBytes: Math.floor(config.ENGINE_MAX_DISK_MB * 1024 * 1024),
  });
  logger.info({ url: engine.url }, 'embedded engine listening');
  return engine;
}
