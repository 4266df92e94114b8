import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';

/** How long a job's files are stored (RETENTION_DAYS, or HISTORY_DAYS when that is sooner or RETENTION_DAYS is 0), in seconds: an entry's TTL. */
export function storedFilesTtlS(retentionDays: number, historyDays: number): number {
  const days = retentionDays > 0 ? Math.min(retentionDays, historyDays) : historyDays;
  return Math.max(1, Math.ceil(days * 86_400));
}

/**
 * The render cache's index in Redis: for each key (a tenant's digest of a
 * job's work), the id of the latest succeeded job that did that work, kept
 * `ttlS` (how long a job's files are stored) after it was written. The
 * outputs stay with that job (its record and files); the index only points.
 */
export class RenderCacheIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlS: number,
  ) {}

  private entryKey(tenant: string, key: string): string {
    return `${this.prefix}:render-cache:${tenant}:${key}`;
  }

  /** The job whose output is stored under the key, if any. */
  async get(tenant: string, key: string): Promise<string | undefined> {
    return (await this.redis.get(this.entryKey(tenant, key))) ?? undefined;
  }

  async put(tenant: string, key: string, jobId: string): Promise<void> {
    await this.redis.set(this.entryKey(tenant, key), jobId, 'EX', this.ttlS);
  }

  /** Drops the entry while it still names `jobId` (a newer job's entry is left alone). */
  async forget(tenant: string, key: string, jobId: string): Promise<void> {
    await FORGET.run(this.redis, [this.entryKey(tenant, key)], [jobId]);
  }
}

/** KEYS: the entry; ARGV: the job id it must name to be deleted. */
const FORGET = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`);
