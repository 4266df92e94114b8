import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { engineDirs, type EngineContext } from './protocol/context.ts';
import { businessErrorHandler, EngineError, renderErrorHandler } from './protocol/envelope.ts';
import { resolveEngineOptions, type EngineOptions } from './options.ts';
import { benchmarkRenderFile } from './render/benchmark-clip.ts';
import { ENDPOINT_OF_ROUTE, Faults } from './protocol/faults.ts';
import { EngineHousekeeping } from './store/housekeeping.ts';
import { renderWithFfmpeg } from './render/render-runner.ts';
import { RenderQueue } from './render/render-queue.ts';
import { adminRoutes } from './protocol/routes/admin.ts';
import { authRoutes } from './protocol/routes/auth.ts';
import { creditRoutes } from './protocol/routes/credits.ts';
import { fileRoutes } from './protocol/routes/files.ts';
import { renderRoutes } from './protocol/routes/render.ts';
import { runSseRoutes } from './protocol/routes/run-sse.ts';
import { sessionRoutes } from './protocol/routes/sessions.ts';
import { stateRoutes } from './protocol/routes/state.ts';
import { uploadRoutes } from './protocol/routes/upload.ts';
import { EngineKeys } from './store/engine-keys.ts';
import { createRedisStore } from './store/redis-store.ts';
import { createRedis, logConnectionState } from '../shared/infra/redis.ts';

export type { EngineOptions, Dialect } from './options.ts';

/** The embedded backend: the upstream protocol over state in Redis, files on a (shared) disk and ffmpeg. Not listening. */
export async function buildEngine(options: EngineOptions): Promise<FastifyInstance> {
  const resolved = resolveEngineOptions(options);
  const dirs = engineDirs(resolved.dataDir);
  await mkdir(dirs.rendersDir, { recursive: true });
  const keys = new EngineKeys(resolved.redisPrefix);
  const connect = () => createRedis(resolved.redis);
  const redis = connect();
  logConnectionState(redis, resolved.logger, 'engine store');
  const store = createRedisStore(redis, keys, resolved);
  await store.accounts.openStatic(resolved.staticTokens, resolved.initialCredits);
  const housekeeping = new EngineHousekeeping(store, dirs, { ttlMs: resolved.ttlMs, maxBytes: resolved.maxDiskBytes }, resolved.logger.child({ component: 'housekeeping' }));
  const rendererLogger = resolved.logger.child({ component: 'renderer' });
  if (resolved.benchmark) {
    rendererLogger.warn('BENCHMARK MODE (ENGINE_BENCHMARK): renders skip ffmpeg and every one answers with the same pre-made 1 s test clip; never use this in production');
  }
  const renderQueue = await RenderQueue.start({
    renders: store.renders,
    connect,
    publisher: redis,
    prefix: keys.prefix,
    cancelChannel: keys.cancelChannel,
    concurrency: resolved.renderConcurrency,
    ...dirs,
    logger: rendererLogger,
    renderFile: resolved.benchmark ? await benchmarkRenderFile(resolved.dataDir) : renderWithFfmpeg,
    onSettled: () => void housekeeping.sweep().catch(() => undefined),
  });
  const ctx: EngineContext = {
    options: resolved,
    store,
    accounts: store.accounts,
    sessions: store.sessions,
    renders: store.renders,
    housekeeping,
    faults: new Faults(redis, keys.faults),
    renderQueue,
    ...dirs,
  };

  const app = Fastify({ loggerInstance: resolved.logger as FastifyBaseLogger });
  await app.register(multipart);
  if (resolved.faults) {
    app.addHook('onRequest', async (request) => {
      const endpoint = ENDPOINT_OF_ROUTE[`${request.method} ${request.routeOptions.url}`];
      const fault = endpoint && (await ctx.faults.take('reply', endpoint));
      if (!fault) return;
      request.log.warn({ endpoint, code: fault.code }, 'answering with an injected fault');
      const headers = fault.retry_after_s === undefined ? undefined : { 'retry-after': String(fault.retry_after_s) };
      throw new EngineError(fault.code, `injected fault: ${fault.code}`, { headers });
    });
  }
  await app.register(async (scope) => {
    scope.setErrorHandler(businessErrorHandler(resolved.dialect));
    for (const routes of [authRoutes, sessionRoutes, uploadRoutes, runSseRoutes, stateRoutes, creditRoutes]) routes(scope, ctx);
    if (resolved.faults) adminRoutes(scope, ctx);
  });
  await app.register(async (scope) => {
    scope.setErrorHandler(renderErrorHandler);
    renderRoutes(scope, ctx);
  });
  await app.register(async (scope) => fileRoutes(scope, ctx));
  await housekeeping.start();
  app.addHook('onClose', async () => {
    housekeeping.stop();
    // renders running here go back to the queue: another engine (or this one, restarted) finishes them
    await renderQueue.close();
    store.close();
  });
  return app;
}

export interface StartedEngine {
  app: FastifyInstance;
  /** base URL of the protocol, e.g. http://127.0.0.1:8790 */
  url: string;
  close(): Promise<void>;
}

/** Builds the engine and listens (port 0 picks a free one). */
export async function startEngine(options: EngineOptions & { host?: string; port?: number }): Promise<StartedEngine> {
  const app = await buildEngine(options);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, url: options.publicUrl ?? `http://${host}:${address.port}`, close: () => app.close() };
}
