/**
 * One part of the all-in-one service (the API, the worker or the engine) as a
 * child process of the supervisor (supervisor.ts). Its part and config come in
 * the first message; it answers `ready` once it serves, and closes on SIGTERM,
 * SIGINT or when the supervisor goes away.
 */
import { createLogger } from '../shared/infra/logger.ts';
import type { PartReady, PartStart } from './part-messages.ts';
import { PARTS } from './parts.ts';
import { runUntilStopped } from './run-until-stopped.ts';

process.once('message', ({ part, config }: PartStart) => {
  process.title = `i2v-${part}`;
  const logger = createLogger({ level: config.LOG_LEVEL, name: part });
  void runUntilStopped(part, logger, () => PARTS[part].start(config, logger)).then((running) => {
    if (process.connected) process.send?.({ type: 'ready', url: running.url } satisfies PartReady);
  });
});
