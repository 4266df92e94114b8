import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactStrings, redactText } from './redact-text.ts';

export type { Logger } from 'pino';

/** Paths that can carry secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.cookie',
  'headers.authorization',
  'headers.Authorization',
  'authorization',
  'token',
  'apiKey',
  'api_key',
  'secret',
  'config.NEMO_TOKEN',
  'config.API_KEYS',
  'config.ADMIN_KEY',
  'config.WEBHOOK_SECRETS',
  'adminKey',
  'password',
  'secrets',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.NEMO_TOKEN',
  '*.ADMIN_KEY',
  '*.password',
];

/** A request as Fastify logs it, with secret query parameters (signed URLs, tokens) taken out of the URL. */
function requestForLog(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: req.url && redactText(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // paths cannot reach secrets inside text (a signed URL in an error message, a bearer token in a reply): these can
    serializers: { req: requestForLog, err: (error: Error) => redactStrings(pino.stdSerializers.err(error), true) },
    formatters: { log: (fields) => redactStrings(fields) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
      },
    },
    base: options.name ? { process: options.name } : {},
  };
  // written as each line is logged: nothing is lost when a worker is killed, and a short write
  // costs a few µs, where pino's default (asynchronous) stdout costs a thread-pool hand-off per line
  return pino(opts, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
