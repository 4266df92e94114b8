import type { Queue } from 'bullmq';
import type { Redis } from '../infra/redis.ts';
import type { Config } from '../infra/config.ts';
import type { JobRecords } from '../jobs/job-record.ts';
import type { Logger } from '../infra/logger.ts';
import type { Storage } from '../storage/storage.ts';
import { WebhookEmitter } from './emitter.ts';
import { WEBHOOK_RETENTION_S, webhookBaseUrl, type WebhookJobData } from './events.ts';
import { SecretLedger } from './secret-ledger.ts';
import { WebhookSecrets } from './secrets.ts';
import { WebhookStore } from './store.ts';

export interface WebhookParts {
  store: WebhookStore;
  secrets: WebhookSecrets;
  emitter: WebhookEmitter;
}

/** The webhook pieces a process needs, from the configuration (the API and workers build the same ones). */
export function createWebhookParts(
  config: Config,
  redis: Redis,
  records: JobRecords,
  queue: Pick<Queue<WebhookJobData>, 'add'>,
  logger: Logger,
  /** where the ledger of issued secrets is kept, outside Redis */
  storage: Storage,
): WebhookParts {
  const store = new WebhookStore(redis, config.REDIS_PREFIX, Math.max(1, Math.min(WEBHOOK_RETENTION_S, Math.round(config.HISTORY_DAYS * 86_400))));
  const secrets = new WebhookSecrets(redis, config.REDIS_PREFIX, new SecretLedger(storage, config.REDIS_PREFIX), logger, config.WEBHOOK_SECRETS);
  const emitter = new WebhookEmitter({
    redis,
    prefix: config.REDIS_PREFIX,
    records,
    store,
    queue,
    baseUrl: webhookBaseUrl(config),
    retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
    logger,
  });
  return { store, secrets, emitter };
}
