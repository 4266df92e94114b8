import type { CreditsCache } from '../shared/backend/credits-cache.ts';
import type { Logger } from '../shared/infra/logger.ts';
import type { BackendCall } from './stage-context.ts';

/** Reads the backend balance now and then every `everyMs`, for GET /v1/credits. */
export function startCreditsRefresh(backend: BackendCall, cache: CreditsCache, everyMs: number, logger: Logger): { stop(): void } {
  const refresh = async () => {
    try {
      await cache.save(await backend((client) => client.creditsBalance()));
    } catch (error) {
      logger.warn({ err: error }, 'could not read the backend credit balance');
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
