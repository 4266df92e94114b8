import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How long a rotated-out secret still signs deliveries. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export interface SecretInfo {
  secret: string;
  /** while set and in the future, deliveries are signed with the previous secret too */
  previousExpiresAt?: string;
}

/** A new secret in the format Standard Webhooks libraries take: `whsec_` + base64 of 24 random bytes. */
export function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * Each tenant's webhook signing secret. A tenant listed in WEBHOOK_SECRETS
 * uses that one until it rotates; any other tenant gets one generated on
 * first use. Both the generated secret and everything rotation writes are
 * kept in one Redis hash per tenant (`current`, `previous`,
 * `previousExpiresAt`), which wins over WEBHOOK_SECRETS once it exists, so a
 * configured tenant can rotate too (delete the hash to go back to the
 * configured secret). Secret values are never logged or put in errors.
 */
export class WebhookSecrets {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly configured: ReadonlyMap<string, string> = new Map(),
  ) {}

  private key(tenant: string): string {
    return `${this.prefix}:webhooks:secret:${tenant}`;
  }

  /** The current secret, generating and keeping one for a tenant that has none. */
  async current(tenant: string): Promise<SecretInfo> {
    const [current, previous, expires] = await this.redis.hmget(this.key(tenant), 'current', 'previous', 'previousExpiresAt');
    let secret = current ?? this.configured.get(tenant);
    if (!secret) {
      await this.redis.hsetnx(this.key(tenant), 'current', generateSecret());
      secret = (await this.redis.hget(this.key(tenant), 'current')) as string;
    }
    const live = previous && expires && Date.parse(expires) > Date.now();
    return live ? { secret, previousExpiresAt: expires } : { secret };
  }

  /** Every secret a delivery is signed with now: the current one, and the previous one during the overlap. */
  async signing(tenant: string): Promise<string[]> {
    const info = await this.current(tenant);
    if (!info.previousExpiresAt) return [info.secret];
    const previous = await this.redis.hget(this.key(tenant), 'previous');
    return previous && previous !== info.secret ? [info.secret, previous] : [info.secret];
  }

  /** Makes a new current secret; the old one keeps signing for ROTATION_OVERLAP_MS. Atomic against a concurrent rotation. */
  async rotate(tenant: string, now = Date.now()): Promise<SecretInfo> {
    const next = generateSecret();
    const expires = new Date(now + ROTATION_OVERLAP_MS).toISOString();
    const hadOne = await this.redis.eval(ROTATE_SCRIPT, 1, this.key(tenant), next, this.configured.get(tenant) ?? '', expires);
    return hadOne === 1 ? { secret: next, previousExpiresAt: expires } : { secret: next };
  }
}

/** KEYS: the tenant's hash; ARGV: new secret, configured secret ('' for none), expiry of the previous one. */
const ROTATE_SCRIPT = `
local old = redis.call('HGET', KEYS[1], 'current')
if not old and ARGV[2] ~= '' then old = ARGV[2] end
if old then
  redis.call('HSET', KEYS[1], 'current', ARGV[1], 'previous', old, 'previousExpiresAt', ARGV[3])
  return 1
end
redis.call('HSET', KEYS[1], 'current', ARGV[1])
redis.call('HDEL', KEYS[1], 'previous', 'previousExpiresAt')
return 0
`;
