import { randomBytes } from 'node:crypto';
import type { Redis } from '../infra/redis.ts';
import type { Logger } from '../infra/logger.ts';
import { RedisScript } from '../infra/redis-script.ts';
import { fingerprintOf, type SecretLedger } from './secret-ledger.ts';

/** How long a rotated-out secret still signs deliveries. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/** The secret the tenant's receivers hold was lost with Redis's data, and the one now current is not acknowledged yet. */
export interface LostSecret {
  /** when the loss was noticed and the current secret took the lost one's place */
  detectedAt: string;
  /** when the lost secret had been made; undefined when not known (a configured one) */
  lostCreatedAt?: string;
}

export interface SecretInfo {
  secret: string;
  /** when this secret was made; undefined for one from WEBHOOK_SECRETS (or one made before creation times were kept) */
  createdAt?: string;
  /** while set and in the future, deliveries are signed with the previous secret too */
  previousExpiresAt?: string;
  /** set while nothing is signed with this secret: the tenant has to acknowledge it */
  lost?: LostSecret;
}

/** Thrown instead of signing with a secret the tenant's receivers cannot know. */
export class SecretLostError extends Error {
  override name = 'SecretLostError';
  constructor(
    readonly tenant: string,
    readonly lost: LostSecret,
  ) {
    super(`the webhook signing secret of tenant ${tenant} was lost with Redis's data (noticed ${lost.detectedAt}); its replacement is not acknowledged`);
  }
}

/** A new secret in the format Standard Webhooks libraries take: `whsec_` + base64 of 24 random bytes. */
export function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

const FIELDS = ['current', 'createdAt', 'previous', 'previousExpiresAt', 'lostAt', 'lostCreatedAt', 'settledAt'] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], string>>;

/**
 * Makes the hash of a tenant that has none: first use, or Redis lost it.
 * KEYS: the hash; ARGV: a generated secret ('' for a configured tenant),
 * now, '1' when the ledger shows the tenant had a secret that is gone, the
 * lost secret's creation time ('' unknown). Returns 1 when this call made it.
 */
const SETTLE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[2]) end
redis.call('HSET', KEYS[1], 'settledAt', ARGV[2])
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'lostAt', ARGV[2], 'lostCreatedAt', ARGV[4]) end
return 1
`);

/** KEYS: the hash; ARGV: new secret, configured secret ('' for none), expiry of the previous one, now. A loss stays marked: receivers get the new secret only once the tenant installs it. */
const ROTATE = new RedisScript(`
local old = redis.call('HGET', KEYS[1], 'current')
if not old and ARGV[2] ~= '' then old = ARGV[2] end
if old then
  redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[4], 'previous', old, 'previousExpiresAt', ARGV[3], 'settledAt', ARGV[4])
  return 1
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[4], 'settledAt', ARGV[4])
redis.call('HDEL', KEYS[1], 'previous', 'previousExpiresAt')
return 0
`);

/** KEYS: the hash; ARGV: the secret the tenant acknowledges, the configured one ('' for none). Clears the loss only if that secret is still current. */
const ACKNOWLEDGE = new RedisScript(`
if (redis.call('HGET', KEYS[1], 'current') or ARGV[2]) ~= ARGV[1] then return 0 end
return redis.call('HDEL', KEYS[1], 'lostAt', 'lostCreatedAt')
`);

/**
 * Each tenant's webhook signing secret. A tenant listed in WEBHOOK_SECRETS
 * uses that one until it rotates; any other tenant gets one generated on
 * first use. Both the generated secret and everything rotation writes are
 * kept in one Redis hash per tenant, which wins over WEBHOOK_SECRETS once it
 * holds a `current` secret, so a configured tenant can rotate too.
 *
 * Redis can lose that hash (a restart without persistence, a flush). The
 * ledger, outside Redis, remembers which secret the tenant's receivers hold;
 * a tenant whose hash is gone but whose ledger entry is not (or names another
 * secret than the configured one) lost its secret. The secret that takes its
 * place is shown but signs nothing until the tenant acknowledges it:
 * deliveries are held, the loss is logged, and GET shows it.
 * Secret values are never logged or put in errors.
 */
export class WebhookSecrets {
  /** per tenant, the fingerprint this process knows the ledger holds */
  private readonly inLedger = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: SecretLedger,
    private readonly logger: Logger,
    private readonly configured: ReadonlyMap<string, string> = new Map(),
  ) {}

  private key(tenant: string): string {
    return `${this.prefix}:webhooks:secret:${tenant}`;
  }

  private async fields(tenant: string): Promise<Fields> {
    const values = await this.redis.hmget(this.key(tenant), ...FIELDS);
    return Object.fromEntries(FIELDS.map((name, i) => [name, values[i] ?? undefined]).filter(([, value]) => value !== undefined));
  }

  /** The current secret: generated for a tenant that has none, and marked lost when the ledger says it had one. */
  async current(tenant: string): Promise<SecretInfo> {
    let fields = await this.fields(tenant);
    if (Object.keys(fields).length === 0) {
      await this.settle(tenant);
      fields = await this.fields(tenant);
    }
    let secret = fields.current ?? this.configured.get(tenant);
    if (!secret) {
      // a tenant taken out of WEBHOOK_SECRETS since: it gets a generated secret, as any other
      await this.redis.hsetnx(this.key(tenant), 'current', generateSecret());
      await this.redis.hsetnx(this.key(tenant), 'createdAt', new Date().toISOString());
      fields = await this.fields(tenant);
      secret = fields.current as string;
    }
    const live = fields.previous && fields.previousExpiresAt && Date.parse(fields.previousExpiresAt) > Date.now();
    const info: SecretInfo = { secret, createdAt: fields.current ? fields.createdAt : undefined, previousExpiresAt: live ? fields.previousExpiresAt : undefined };
    if (fields.lostAt) return { ...info, lost: { detectedAt: fields.lostAt, lostCreatedAt: fields.lostCreatedAt || undefined } };
    await this.keepInLedger(tenant, info);
    return info;
  }

  /** Every secret a delivery is signed with now: the current one, and the previous one during the overlap. Throws SecretLostError while the current one is not acknowledged. */
  async signing(tenant: string): Promise<string[]> {
    const info = await this.current(tenant);
    if (info.lost) throw new SecretLostError(tenant, info.lost);
    if (!info.previousExpiresAt) return [info.secret];
    const previous = await this.redis.hget(this.key(tenant), 'previous');
    return previous && previous !== info.secret ? [info.secret, previous] : [info.secret];
  }

  /**
   * Makes a new current secret; the old one keeps signing for
   * ROTATION_OVERLAP_MS. Atomic against a concurrent rotation. A secret
   * marked lost stays so: the new one signs once the tenant acknowledges it.
   */
  async rotate(tenant: string, now = Date.now()): Promise<SecretInfo> {
    const createdAt = new Date(now).toISOString();
    const expires = new Date(now + ROTATION_OVERLAP_MS).toISOString();
    await ROTATE.run(this.redis, [this.key(tenant)], [generateSecret(), this.configured.get(tenant) ?? '', expires, createdAt]);
    return this.current(tenant);
  }

  /** The tenant has installed the current secret: deliveries are signed with it from now on. Nothing changes when it is not marked lost. */
  async acknowledge(tenant: string): Promise<SecretInfo> {
    const info = await this.current(tenant);
    if (!info.lost) return info;
    // another loss since `current` read it: the tenant has not seen the secret now current
    if ((await ACKNOWLEDGE.run(this.redis, [this.key(tenant)], [info.secret, this.configured.get(tenant) ?? ''])) === 0) return this.current(tenant);
    this.logger.info({ tenant }, 'webhook signing secret acknowledged; held deliveries are sent');
    const acknowledged = { ...info, lost: undefined };
    await this.keepInLedger(tenant, acknowledged);
    return acknowledged;
  }

  /** First use of a tenant, or the first use since Redis lost its hash: which it is, the ledger says. */
  private async settle(tenant: string): Promise<void> {
    const configured = this.configured.get(tenant);
    // a ledger that cannot be read leaves the question open: this throws, and nothing is signed
    const issued = await this.ledger.issued(tenant);
    const lost = issued !== undefined && (configured === undefined || issued.fingerprint !== fingerprintOf(configured));
    const now = new Date().toISOString();
    const made = await SETTLE.run(this.redis, [this.key(tenant)], [configured ? '' : generateSecret(), now, lost ? '1' : '', issued?.createdAt ?? '']);
    if (made === 1 && lost) {
      this.logger.error(
        { tenant, code: 'webhook_secret_lost', lost_secret_created_at: issued.createdAt },
        'webhook signing secret lost with Redis data: deliveries are held until the tenant acknowledges the new secret (POST /v1/webhooks/secret/acknowledge)',
      );
    }
  }

  /** Records the secret the tenant's receivers now hold in the ledger, once per process and secret. A ledger that cannot be written only costs noticing a later loss. */
  private async keepInLedger(tenant: string, info: SecretInfo): Promise<void> {
    const fingerprint = fingerprintOf(info.secret);
    if (this.inLedger.get(tenant) === fingerprint) return;
    try {
      if ((await this.ledger.issued(tenant))?.fingerprint !== fingerprint) await this.ledger.record(tenant, info.secret, info.createdAt ?? null);
      this.inLedger.set(tenant, fingerprint);
    } catch (error) {
      this.logger.warn({ tenant, err: error }, 'could not record which webhook secret the tenant holds outside Redis; a loss of Redis data would go unnoticed');
    }
  }
}
