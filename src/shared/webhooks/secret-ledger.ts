import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ObjectNotFoundError, type Storage } from '../storage/storage.ts';

/** Which secret a tenant's receivers were given: its fingerprint, never the secret. */
export interface IssuedSecret {
  fingerprint: string;
  /** when that secret was made; null for one from WEBHOOK_SECRETS */
  createdAt: string | null;
}

/** A one-way digest of a secret: tells two secrets apart, reveals neither (the secrets are 192 random bits). */
export function fingerprintOf(secret: string): string {
  return createHash('sha256').update(`i2v webhook secret\0${secret}`).digest('hex').slice(0, 32);
}

/**
 * Remembers, outside Redis, which signing secret each tenant's receivers
 * hold: one small object per tenant in the storage (disk or S3), which
 * outlives a Redis that lost its data. A tenant whose secret is gone from
 * Redis but listed here lost it; one listed nowhere never had one.
 */
export class SecretLedger {
  constructor(
    private readonly storage: Storage,
    /** REDIS_PREFIX: deployments that share a bucket keep apart */
    private readonly prefix: string,
  ) {}

  private key(tenant: string): string {
    return `webhook-secrets/${createHash('sha256').update(`${this.prefix}\0${tenant}`).digest('hex').slice(0, 32)}.json`;
  }

  async issued(tenant: string): Promise<IssuedSecret | undefined> {
    try {
      const kept = JSON.parse(await text(await this.storage.read(this.key(tenant)))) as { fingerprint: string; created_at: string | null };
      return { fingerprint: kept.fingerprint, createdAt: kept.created_at };
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  async record(tenant: string, secret: string, createdAt: string | null): Promise<void> {
    const body = JSON.stringify({ tenant, fingerprint: fingerprintOf(secret), created_at: createdAt });
    await this.storage.write(this.key(tenant), Readable.from([body]));
  }
}
