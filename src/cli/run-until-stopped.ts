import type { Logger } from '../shared/infra/logger.ts';

/**
 * Runs a long-lived part until SIGINT, SIGTERM, SIGHUP (its terminal closed)
 * or, for a child of the all-in-one supervisor, the loss of its parent; then
 * closes it and exits. A part that cannot start is logged and the process
 * exits with 1.
 */
export function runUntilStopped<Running extends { close(): Promise<void> }>(name: string, logger: Logger, start: () => Promise<Running>): Promise<Running> {
  const running = start().catch((error: Error) => {
    logger.fatal({ err: error }, `${name} could not start`);
    process.exit(1);
  });
  let stopping = false;
  const stop = async (why: string) => {
    // a signal sent twice (to the process group and forwarded by bin/i2v.js) must not cut the clean stop short
    if (stopping) return void logger.info({ signal: why }, 'already shutting down');
    stopping = true;
    logger.info({ signal: why }, 'shutting down');
    try {
      await (await running).close();
    } catch (error) {
      logger.error({ err: error }, `${name} did not close cleanly`);
      process.exit(1);
    }
    process.exit(0);
  };
  // handlers first: a signal that arrives while starting still closes what started
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  // a supervised part whose supervisor died (even by SIGKILL) does not outlive it
  if (process.connected) process.once('disconnect', () => void stop('supervisor gone'));
  return running;
}
