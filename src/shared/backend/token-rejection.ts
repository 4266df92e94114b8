import type { Redis } from '../infra/redis.ts';
import { RedisScript } from '../infra/redis-script.ts';

/** The backend's rejections of the configured NEMO_TOKEN, as the fleet last saw them. */
export interface TokenRejection {
  /** rejections in a row, each after the previous wait ran out */
  rejections: number;
  lastRejectedAt: string;
  /** until then workers use an anonymous token; then NEMO_TOKEN is tried again */
  retryAt: string;
}

/**
 * Counts a rejection unless one is already being waited out (workers rejected
 * at the same moment count once), and sets the next try after `base * 2^(n-1)`
 * ms, at most `max`. Kept an hour past the wait, so a rejection right after it
 * doubles the wait; NEMO_TOKEN itself is never stored.
 * Reply: [rejections, retryAtMs, counted (1|0)].
 */
const REJECT = new RedisScript(`
local now = tonumber(ARGV[1])
local retryAt = tonumber(redis.call('HGET', KEYS[1], 'retryAt') or '0')
local rejections = tonumber(redis.call('HGET', KEYS[1], 'rejections') or '0')
if retryAt > now then return {rejections, retryAt, 0} end
rejections = rejections + 1
local wait = math.min(tonumber(ARGV[2]) * 2 ^ (rejections - 1), tonumber(ARGV[3]))
retryAt = math.floor(now + wait)
redis.call('HSET', KEYS[1], 'rejections', rejections, 'lastRejectedAt', now, 'retryAt', retryAt)
redis.call('PEXPIRE', KEYS[1], math.floor(wait) + 3600000)
return {rejections, retryAt, 1}
`);

/**
 * Whether the backend rejected NEMO_TOKEN and when the fleet tries it again.
 * Workers write it; the API reads it for `/readyz`. One record per Redis
 * prefix, like the credits snapshot.
 */
export class TokenRejections {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:backend:configured-token-rejected`;
  }

  async reject(baseMs: number, maxMs: number, now = Date.now()): Promise<{ rejection: TokenRejection; counted: boolean }> {
    const [rejections, retryAt, counted] = (await REJECT.run(this.redis, [this.key], [now, baseMs, maxMs])) as [number, number, number];
    return { rejection: { rejections, lastRejectedAt: new Date(now).toISOString(), retryAt: new Date(retryAt).toISOString() }, counted: counted === 1 };
  }

  async read(): Promise<TokenRejection | undefined> {
    const hash = await this.redis.hgetall(this.key);
    if (!hash.retryAt) return undefined;
    return {
      rejections: Number(hash.rejections),
      lastRejectedAt: new Date(Number(hash.lastRejectedAt)).toISOString(),
      retryAt: new Date(Number(hash.retryAt)).toISOString(),
    };
  }

  /** The backend took NEMO_TOKEN again. */
  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }
}
