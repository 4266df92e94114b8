import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../shared/infra/config.ts';
import { createLogger, type Logger } from '../shared/infra/logger.ts';
import { out } from './output.ts';
import { PARTS, type PartName } from './parts.ts';
import { runUntilStopped } from './run-until-stopped.ts';
import { animateCommand } from './client/animate.ts';
import { cancelCommand } from './client/cancel.ts';
import { jobsCommand } from './client/jobs.ts';
import { statusCommand } from './client/status.ts';

// The processes' modules are imported when their command runs, so the client
// commands (animate, jobs, status, cancel) start without loading the server.

function configOrExit(servesApi = true): Config {
  try {
    return loadConfig(process.env, { servesApi });
  } catch (error) {
    if (error instanceof ConfigError) {
      out.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Runs a long-lived process until SIGINT/SIGTERM, then closes it cleanly. */
async function serveUntilSignal(name: string, start: (config: Config, logger: Logger) => Promise<{ close(): Promise<void> }>, servesApi = true) {
  const config = configOrExit(servesApi);
  const logger = createLogger({ level: config.LOG_LEVEL, name });
  await runUntilStopped(name, logger, () => start(config, logger));
}

const program = new Command('i2v').description('Turn still images into short MP4 videos.');

program
  .command('serve')
  .description('API, worker and embedded engine, each in its own process under a supervisor that restarts a dead one (first run, offline use)')
  .action(() =>
    serveUntilSignal('i2v', async (config, logger) => {
      const { startAllInOne } = await import('./all-in-one.ts');
      const service = await startAllInOne(config, logger);
      logger.info({ url: service.api.url }, 'i2v is up');
      return service;
    }),
  );

const partDescriptions: Record<PartName, string> = {
  api: 'the REST API alone',
  worker: 'a render worker alone (BACKEND_URL, else the engine at ENGINE_HOST:ENGINE_PORT)',
  engine: 'the embedded render engine alone, on ENGINE_HOST:ENGINE_PORT',
};
for (const [name, description] of Object.entries(partDescriptions) as [PartName, string][]) {
  program
    .command(name)
    .description(description)
    .action(() => serveUntilSignal(name, (config, logger) => PARTS[name].start(config, logger), PARTS[name].servesApi));
}

program
  .command('demo')
  .description('start everything, animate the bundled sample photo through the REST API, print the MP4 path')
  .action(async () => {
    const config = configOrExit();
    const logger = createLogger({ level: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn', name: 'demo' });
    try {
      const { runDemo } = await import('./demo.ts');
      await runDemo(config, logger);
      process.exit(0);
    } catch (error) {
      out.error(`demo failed: ${(error as Error).message}`);
      process.exit(1);
    }
  });

// clients of a running API (I2V_URL, I2V_API_KEY)
for (const command of [animateCommand(), jobsCommand(), statusCommand(), cancelCommand()]) program.addCommand(command);

await program.parseAsync();
