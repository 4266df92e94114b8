import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export const IDEMPOTENCY_TTL_S = 24 * 3600;
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

export type Claim = { kind: 'new' } | { kind: 'replay'; jobId: string } | { kind: 'conflict'; jobId: string };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `Idempotency-Key`: the first request with a key claims it for its job (SET
 * NX, so concurrent duplicates resolve to one winner); a later request with
 * the same key and body gets that job, with another body a conflict.
 */
export class Idempotency {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(tenant: string, idempotencyKey: string): string {
    return `${this.prefix}:idem:${tenant}:${sha256(idempotencyKey)}`;
  }

  /** `canonicalBody`: the request in a canonical form; only its hash is kept. */
  async claim(tenant: string, idempotencyKey: string, canonicalBody: string, jobId: string): Promise<Claim> {
    const key = this.key(tenant, idempotencyKey);
    const bodyHash = sha256(canonicalBody);
    const claimed = await this.redis.set(key, `${jobId} ${bodyHash}`, 'EX', IDEMPOTENCY_TTL_S, 'NX');
    if (claimed) return { kind: 'new' };
    const [existingJob, existingHash] = ((await this.redis.get(key)) ?? '').split(' ');
    if (!existingJob) return this.claim(tenant, idempotencyKey, canonicalBody, jobId);
    return existingHash === bodyHash ? { kind: 'replay', jobId: existingJob } : { kind: 'conflict', jobId: existingJob };
  }

  /** Frees a key whose job could not be created, so the client can try again. */
  async release(tenant: string, idempotencyKey: string): Promise<void> {
    await this.redis.del(this.key(tenant, idempotencyKey));
  }
}

