import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';
import type { Account, AnonymousTokenResult } from './accounts.ts';
import type { EngineKeys } from './engine-keys.ts';
import type { AccountStore } from './engine-store.ts';
import { newAnonymousUserId, newToken } from './ids.ts';

const ANONYMOUS_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;
const RATE_LIMIT_RETRY_AFTER_S = 30;
/** records outlive their expiry by this much, so an expiry is told apart from an unknown token */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;
/** `expires` of a token that never expires on its own */
const NEVER = -1;

/** A new token and account unless the client id had one of this generation that has not expired (1), else 0. */
const ISSUE = new RedisScript(`
local client = KEYS[1]
local generation = redis.call('GET', KEYS[2]) or '0'
local previous = redis.call('HMGET', client, 'generation', 'expires')
if previous[1] == generation and tonumber(previous[2]) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[3], 'user', ARGV[2], 'generation', generation, 'expires', ARGV[3], 'available', ARGV[4], 'frozen', 0)
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('HSET', client, 'generation', generation, 'expires', ARGV[3])
redis.call('PEXPIRE', client, ARGV[5])
redis.call('HINCRBY', KEYS[4], 'tokens_issued', 1)
return 1
`);

/** A static token's account, opened once for the whole backend. */
const OPEN_STATIC = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local generation = redis.call('GET', KEYS[2]) or '0'
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'generation', generation, 'expires', ARGV[2], 'available', ARGV[3], 'frozen', 0)
return 1
`);

/** user, available, frozen of a token of the current generation that has not expired; else nil. */
const AUTHENTICATE = new RedisScript(`
local record = redis.call('HMGET', KEYS[1], 'user', 'generation', 'expires', 'available', 'frozen')
if not record[1] then return nil end
local generation = redis.call('GET', KEYS[2]) or '0'
if record[2] ~= generation then return nil end
local expires = tonumber(record[3])
if expires ~= ${NEVER} and expires <= tonumber(ARGV[1]) then return nil end
return {record[1], record[4], record[5]}
`);

/** The new balance, or -1 (nothing taken) when there is not enough. */
const CHARGE = new RedisScript(`
local available = tonumber(redis.call('HGET', KEYS[1], 'available') or '-1')
local amount = tonumber(ARGV[1])
if available < amount then return -1 end
return redis.call('HINCRBY', KEYS[1], 'available', -amount)
`);

export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: EngineKeys,
    private readonly initialCredits: number,
  ) {}

  async openStatic(tokens: readonly string[], credits: number): Promise<void> {
    for (const [index, token] of tokens.entries()) {
      await OPEN_STATIC.run(this.redis, [this.keys.token(token), this.keys.tokenGeneration], [`user_static_${index + 1}`, NEVER, credits]);
    }
  }

  async issueAnonymous(clientId: string, now = Date.now()): Promise<AnonymousTokenResult> {
    const token = newToken();
    const userId = newAnonymousUserId();
    const expiresAt = now + ANONYMOUS_TOKEN_TTL_MS;
    const keepMs = Math.max(expiresAt - Date.now(), 0) + KEEP_AFTER_EXPIRY_MS;
    const issued = await ISSUE.run(
      this.redis,
      [this.keys.client(clientId), this.keys.tokenGeneration, this.keys.token(token), this.keys.counters],
      [now, userId, expiresAt, this.initialCredits, keepMs],
    );
    if (issued !== 1) return { ok: false, retryAfterS: RATE_LIMIT_RETRY_AFTER_S };
    return { ok: true, token, account: { token, userId, available: this.initialCredits, frozen: 0 }, expiresAt: new Date(expiresAt) };
  }

  async issuedCount(): Promise<number> {
    return Number((await this.redis.hget(this.keys.counters, 'tokens_issued')) ?? 0);
  }

  async expireAll(): Promise<void> {
    await this.redis.incr(this.keys.tokenGeneration);
  }

  async authenticate(token: string, now = Date.now()): Promise<Account | undefined> {
    const found = (await AUTHENTICATE.run(this.redis, [this.keys.token(token), this.keys.tokenGeneration], [now])) as [string, string, string] | null;
    if (!found) return undefined;
    return { token, userId: found[0], available: Number(found[1]), frozen: Number(found[2]) };
  }

  async charge(account: Account, amount: number): Promise<boolean> {
    const balance = Number(await CHARGE.run(this.redis, [this.keys.token(account.token)], [amount]));
    if (balance < 0) return false;
    account.available = balance;
    return true;
  }
}
