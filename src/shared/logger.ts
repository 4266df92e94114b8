import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths that can carry secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.Authorization',
  'authorization',
  'token',
  'apiKey',
  'api_key',
  'secret',
  'config.NEMO_TOKEN',
  'config.API_KEYS',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.NEMO_TOKEN',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: options.name ? { process: options.name } : {},
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
