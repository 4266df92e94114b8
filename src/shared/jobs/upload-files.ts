import type { ChainableCommander } from 'ioredis';
import type { Redis } from '../infra/redis.ts';

/** How long an upload can be referenced as `upload:<id>`. */
export const UPLOAD_TTL_S = 24 * 3600;

/**
 * The storage keys of uploaded files by upload time (a sorted set), so
 * retention finds old ones without listing the storage.
 */
export class UploadFiles {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(): string {
    return `${this.prefix}:upload-files`;
  }

  /** Adds the file to the index within the caller's transaction. */
  track(multi: ChainableCommander, storageKey: string, uploadedAtMs: number): ChainableCommander {
    return multi.zadd(this.key(), uploadedAtMs, storageKey);
  }

  /** Up to `count` keys of files uploaded before `cutoffMs`, oldest first. */
  async uploadedBefore(cutoffMs: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.key(), '-inf', cutoffMs, 'LIMIT', 0, count);
  }

  async forget(storageKey: string): Promise<void> {
    await this.redis.zrem(this.key(), storageKey);
  }
}
