import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from '../../../shared/infra/redis.ts';
import { RedisScript } from '../../../shared/infra/redis-script.ts';

/**
 * Takes up to ARGV[1] requests of a key's budget (ARGV[2] per window of
 * ARGV[3] ms) in one step. The grant shrinks as the budget runs out (an
 * eighth of what is left, rounded up), so near the limit every process
 * leases one request at a time. The counter is the same INCR-style counter
 * @fastify/rate-limit's Redis store keeps, so processes of either kind can
 * share it during a rolling upgrade. Returns {used, granted, ttl ms}.
 */
const LEASE = new RedisScript(`
local key = KEYS[1]
local want = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local used = tonumber(redis.call('GET', key) or '0')
local left = max - used
local granted = 0
if left > 0 then
  granted = math.min(want, math.ceil(left / 8))
  used = redis.call('INCRBY', key, granted)
end
local ttl = redis.call('PTTL', key)
if ttl < 0 and used > 0 then
  redis.call('PEXPIRE', key, window)
  ttl = window
elseif ttl < 0 then
  ttl = window
end
return {used, granted, ttl}
`);

/** The largest lease: one round trip per this many requests of a busy key, at most. */
export const MAX_LEASE = 100;

/** How many requests one lease asks for: 1 % of the budget, 1 to MAX_LEASE. */
export function leaseSize(max: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(max / 100)));
}

interface Window {
  /** local clock time the key's Redis window ends */
  endsAt: number;
  /** leased requests not handed out yet */
  left: number;
  /** the key's Redis counter after the last lease (every process's requests, leased ones included) */
  used: number;
  /** Redis granted nothing: the budget is spent until endsAt */
  spent: boolean;
}

type Result = { current: number; ttl: number };

/**
 * A store for @fastify/rate-limit that counts in Redis (one budget for every
 * API process) without a round trip per request: a process leases a block of
 * a key's budget (LEASE) and hands it out locally, then leases again.
 * Requests that find no lease left wait for one in-flight lease per key.
 * Leases are taken from the budget up front, so all processes together never
 * admit more than `max` per window; what a process leased and has not used
 * when the budget runs out is lost to the others (under-admission, at most
 * `leaseSize(max) - 1` requests per other process, and far fewer in practice
 * since leases shrink near the limit). A spent budget is remembered until the
 * window ends, so refused requests cost no round trip either.
 */
export class LeasedRedisStore implements FastifyRateLimitStore {
  private readonly windows = new Map<string, Window>();
  private readonly leasing = new Map<string, Promise<void>>();
  private nextSweep = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  incr(key: string, callback: (error: Error | null, result?: Result) => void, timeWindow: number, max: number): void {
    const taken = this.takeLocally(key, max);
    if (taken) return callback(null, taken);
    this.take(key, timeWindow, max).then(
      (result) => callback(null, result),
      (error: Error) => callback(error),
    );
  }

  child(routeOptions: { method?: unknown; url?: unknown; routeInfo?: { method?: unknown; url?: unknown } }): LeasedRedisStore {
    const route = routeOptions.routeInfo ?? routeOptions;
    return new LeasedRedisStore(this.redis, `${this.prefix}${String(route.method)}${String(route.url)}-`);
  }

  /** A request from this process's lease, a refusal while the budget is spent, or undefined: lease first. */
  private takeLocally(key: string, max: number): Result | undefined {
    const window = this.windows.get(key);
    if (!window) return undefined;
    const ttl = window.endsAt - Date.now();
    if (ttl <= 0) {
      this.windows.delete(key);
      return undefined;
    }
    if (window.left > 0) {
      window.left--;
      // what Redis had counted, less what this process holds unused
      return { current: window.used - window.left, ttl };
    }
    return window.spent ? { current: max + 1, ttl } : undefined;
  }

  private async take(key: string, timeWindow: number, max: number): Promise<Result> {
    for (;;) {
      const taken = this.takeLocally(key, max);
      if (taken) return taken;
      let lease = this.leasing.get(key);
      if (!lease) {
        lease = this.lease(key, timeWindow, max).finally(() => this.leasing.delete(key));
        this.leasing.set(key, lease);
      }
      await lease;
    }
  }

  private async lease(key: string, timeWindow: number, max: number): Promise<void> {
    const [used, granted, ttl] = (await LEASE.run(this.redis, [this.prefix + key], [leaseSize(max), max, timeWindow])) as [number, number, number];
    const now = Date.now();
    this.windows.set(key, { endsAt: now + ttl, left: granted, used, spent: granted === 0 });
    if (now >= this.nextSweep) {
      this.nextSweep = now + timeWindow;
      for (const [other, window] of this.windows) if (window.endsAt <= now) this.windows.delete(other);
    }
  }
}

/** The store as @fastify/rate-limit takes it: a class it makes one instance of. */
export function leasedRedisStore(redis: Redis, prefix: string): FastifyRateLimitStoreCtor {
  return class extends LeasedRedisStore {
    constructor() {
      super(redis, prefix);
    }
  };
}
