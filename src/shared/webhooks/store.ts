import { createHash } from 'node:crypto';
import type { Redis } from '../infra/redis.ts';
import { encodeTime, monotonicFactory } from 'ulid';
import type { WebhookEvent } from '../jobs/job-record.ts';
import { RedisScript } from '../infra/redis-script.ts';
import { WEBHOOK_RETENTION_S, type WebhookEventRecord } from './events.ts';

export const DELIVERY_STATUSES = ['delivered', 'retrying', 'failed', 'gone', 'skipped', 'held'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One delivery attempt, as GET /v1/webhooks/deliveries shows it. */
export interface DeliveryAttempt {
  id: string;
  event_id: string;
  type: WebhookEvent;
  job_id: string | null;
  batch_id: string | null;
  url: string;
  status: DeliveryStatus;
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
  attempt: number;
  next_attempt_at: string | null;
  created_at: string;
}

/** Attempts kept per tenant (the oldest are dropped first, index entry and attempt together); each is also dropped after the store's keep period. */
export const MAX_ATTEMPTS_KEPT = 1000;

const nextUlid = monotonicFactory();

export interface DeliveryFilter {
  jobId?: string;
  batchId?: string;
  status?: DeliveryStatus;
  limit: number;
  /** the last id of the previous page */
  cursor?: string;
}

/**
 * What webhooks keep in Redis besides the queue: each event (its exact body,
 * for redelivery), each delivery attempt with a per-tenant index (ids are
 * time-ordered, read newest first like the job index), and the URLs that
 * answered 410 Gone.
 */
export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** how long events and attempts are kept: WEBHOOK_RETENTION_S, or HISTORY_DAYS when shorter */
    readonly keepS = WEBHOOK_RETENTION_S,
  ) {}

  private eventKey(id: string): string {
    return `${this.prefix}:webhooks:event:${id}`;
  }
  private attemptKey(id: string): string {
    return `${this.prefix}:webhooks:attempt:${id}`;
  }
  private index(tenant: string): string {
    return `${this.prefix}:webhooks:deliveries:${tenant}`;
  }
  private goneKey(tenant: string): string {
    return `${this.prefix}:webhooks:gone:${tenant}`;
  }
  private heldKey(tenant: string): string {
    return `${this.prefix}:webhooks:held:${tenant}`;
  }

  /** Keeps an event unless one with its id exists; returns the one kept (the first wins, so every send has the same bytes). */
  async saveEvent(event: WebhookEventRecord): Promise<WebhookEventRecord> {
    const created = await this.redis.set(this.eventKey(event.id), JSON.stringify(event), 'EX', this.keepS, 'NX');
    if (created) return event;
    return (await this.event(event.id)) ?? event;
  }

  async event(id: string): Promise<WebhookEventRecord | undefined> {
    const raw = await this.redis.get(this.eventKey(id));
    return raw ? (JSON.parse(raw) as WebhookEventRecord) : undefined;
  }

  async record(tenant: string, attempt: Omit<DeliveryAttempt, 'id' | 'created_at'>, now = Date.now()): Promise<DeliveryAttempt> {
    const entry: DeliveryAttempt = { id: `whd_${nextUlid(now).toLowerCase()}`, ...attempt, created_at: new Date(now).toISOString() };
    const oldest = `whd_${encodeTime(now - this.keepS * 1000, 10).toLowerCase()}`;
    const dropped = (await RECORD_ATTEMPT.run(
      this.redis,
      [this.attemptKey(entry.id), this.index(tenant)],
      [entry.id, JSON.stringify({ tenant, ...entry }), this.keepS, `(${oldest}`, MAX_ATTEMPTS_KEPT],
    )) as string[];
    // the dropped attempts' own keys go after the script (a script touches only the keys it is given, for Redis Cluster);
    // they are out of the log already, and expire by themselves should this not run
    for (let i = 0; i < dropped.length; i += 500) await this.redis.del(...dropped.slice(i, i + 500).map((id) => this.attemptKey(id)));
    return entry;
  }

  /** An attempt of the tenant's, or undefined (also for another tenant's). */
  async attempt(tenant: string, id: string): Promise<DeliveryAttempt | undefined> {
    const raw = await this.redis.get(this.attemptKey(id));
    if (!raw) return undefined;
    const { tenant: owner, ...attempt } = JSON.parse(raw) as DeliveryAttempt & { tenant: string };
    return owner === tenant ? attempt : undefined;
  }

  /** The tenant's attempts, newest first, filtered; `next_cursor` when more may follow. */
  async list(tenant: string, filter: DeliveryFilter): Promise<{ data: DeliveryAttempt[]; next_cursor: string | null }> {
    const max = filter.cursor ? `(${filter.cursor}` : '+';
    const ids = await this.redis.zrevrangebylex(this.index(tenant), max, '-', 'LIMIT', 0, MAX_ATTEMPTS_KEPT);
    const data: DeliveryAttempt[] = [];
    let last: string | undefined;
    for (let i = 0; i < ids.length && data.length < filter.limit; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const raws = await this.redis.mget(chunk.map((id) => this.attemptKey(id)));
      for (const [n, raw] of raws.entries()) {
        if (data.length === filter.limit) break;
        last = chunk[n];
        if (!raw) continue;
        const { tenant: _owner, ...attempt } = JSON.parse(raw) as DeliveryAttempt & { tenant: string };
        if (filter.jobId && attempt.job_id !== filter.jobId) continue;
        if (filter.batchId && attempt.batch_id !== filter.batchId) continue;
        if (filter.status && attempt.status !== filter.status) continue;
        data.push(attempt);
      }
    }
    const more = data.length === filter.limit && last !== undefined && ids.indexOf(last) < ids.length - 1;
    return { data, next_cursor: more ? (last ?? null) : null };
  }

  private urlField(url: string): string {
    return createHash('sha256').update(url).digest('hex');
  }

  /** Remembers that a URL answered 410 Gone: later events to it are not sent. */
  async markGone(tenant: string, url: string): Promise<void> {
    await this.redis.hset(this.goneKey(tenant), this.urlField(url), new Date().toISOString());
  }

  async isGone(tenant: string, url: string): Promise<boolean> {
    return (await this.redis.hexists(this.goneKey(tenant), this.urlField(url))) === 1;
  }

  async clearGone(tenant: string, url: string): Promise<void> {
    await this.redis.hdel(this.goneKey(tenant), this.urlField(url));
  }

  /** Keeps an event that was not sent because the tenant's secret was lost, until the tenant acknowledges a new one (kept as long as events are). */
  async hold(tenant: string, eventId: string, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.heldKey(tenant), now, eventId)
      .zremrangebyscore(this.heldKey(tenant), '-inf', `(${now - WEBHOOK_RETENTION_S * 1000}`)
      .expire(this.heldKey(tenant), WEBHOOK_RETENTION_S)
      .exec();
  }

  /** Takes an event out of the held ones; false when someone else (a release) took it first. */
  async unhold(tenant: string, eventId: string): Promise<boolean> {
    return (await this.redis.zrem(this.heldKey(tenant), eventId)) === 1;
  }

  /** The ids of the tenant's held events, oldest first. */
  async held(tenant: string, now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(this.heldKey(tenant), now - WEBHOOK_RETENTION_S * 1000, '+inf');
  }

  async heldCount(tenant: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.heldKey(tenant), now - WEBHOOK_RETENTION_S * 1000, '+inf');
  }
}

/**
 * KEYS: the attempt, the tenant's index; ARGV: its id, its JSON, seconds to
 * keep it, the lex bound below which attempts are too old, the attempts kept
 * per tenant. Attempts dropped from the index (too old, or beyond the cap)
 * are returned, for the caller to delete.
 */
const RECORD_ATTEMPT = new RedisScript(`
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
local dropped = redis.call('ZRANGEBYLEX', KEYS[2], '-', ARGV[4])
local beyond = redis.call('ZCARD', KEYS[2]) - #dropped - tonumber(ARGV[5])
if beyond > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], #dropped, #dropped + beyond - 1)) do table.insert(dropped, id) end
end
for i = 1, #dropped, 500 do
  redis.call('ZREM', KEYS[2], unpack(dropped, i, math.min(i + 499, #dropped)))
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return dropped
`);
