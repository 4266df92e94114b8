import type { Redis } from '../infra/redis.ts';
import type { WebhookEvent } from './job-record.ts';
import { RedisScript } from '../infra/redis-script.ts';

/** A batch: jobs submitted together, followed together, reported once when the last one ends. */
export interface BatchRecord {
  id: string;
  tenant: string;
  jobIds: string[];
  createdAt: string;
  completedAt?: string;
  canceledAt?: string;
  metadata: Record<string, string>;
  webhookUrl?: string;
  webhookEvents: WebhookEvent[];
}

const JSON_FIELDS = new Set(['jobIds', 'metadata', 'webhookEvents']);

export class BatchRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(id: string): string {
    return `${this.prefix}:batch:${id}`;
  }

  /** The backend session a batch's items share, and the lock that lets one item at a time upload and instruct in it. */
  sessionKey(id: string): string {
    return `${this.key(id)}:session`;
  }

  sessionLockKey(id: string): string {
    return `${this.key(id)}:session-lock`;
  }

  async create(batch: BatchRecord): Promise<void> {
    const hash: Record<string, string> = {};
    for (const [field, value] of Object.entries(batch)) {
      if (value !== undefined) hash[field] = JSON_FIELDS.has(field) ? JSON.stringify(value) : String(value);
    }
    await this.redis.hset(this.key(batch.id), hash);
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    if (!hash.id) return undefined;
    const record: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(hash)) record[field] = JSON_FIELDS.has(field) ? JSON.parse(value) : value;
    return record as unknown as BatchRecord;
  }

  /**
   * Marks the batch complete once; true for the caller that did it (so
   * `batch.completed` is sent once). The batch and its session are kept
   * `keepS` more (HISTORY_DAYS), then Redis drops them.
   */
  async complete(id: string, at: string, keepS: number): Promise<boolean> {
    return (await COMPLETE.run(this.redis, [this.key(id), this.sessionKey(id)], [at, Math.max(1, Math.round(keepS))])) === 1;
  }

  async markCanceled(id: string, at: string): Promise<void> {
    await this.redis.hsetnx(this.key(id), 'canceledAt', at);
  }
}

/** KEYS: the batch, its session; ARGV: completedAt, seconds to keep them. 1 for the call that completed it. */
const COMPLETE = new RedisScript(`
local first = redis.call('HSETNX', KEYS[1], 'completedAt', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return first
`);
