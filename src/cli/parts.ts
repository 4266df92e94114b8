import { backendUrlOf, type Config } from '../shared/infra/config.ts';
import type { Logger } from '../shared/infra/logger.ts';

export type PartName = 'api' | 'worker' | 'engine';

export interface RunningPart {
  /** where it answers (the API, the engine); a worker has none */
  url?: string;
  close(): Promise<void>;
}

interface PartDefinition {
  /** serves clients, so production needs API_KEYS */
  servesApi: boolean;
  start(config: Config, logger: Logger): Promise<RunningPart>;
}

/**
 * The three long-lived parts of the service, as `i2v api|worker|engine` and
 * the all-in-one supervisor's children start them. Each imports its modules
 * when it starts, so a process loads only the part it runs.
 */
export const PARTS: Record<PartName, PartDefinition> = {
  api: {
    servesApi: true,
    start: async (config, logger) => (await import('../api/server.ts')).startApi(config, logger),
  },
  worker: {
    servesApi: false,
    start: async (config, logger) => {
      const worker = await (await import('../workers/main.ts')).startWorker(config, logger, backendUrlOf(config));
      return { close: () => worker.close() };
    },
  },
  engine: {
    servesApi: false,
    start: async (config, logger) => (await import('./engine-process.ts')).startEngineProcess(config, logger),
  },
};
