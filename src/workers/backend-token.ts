import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface TokenSource {
  /** NEMO_TOKEN, when the deployment has one */
  configuredToken: string;
  /** NEMO_CLIENT_ID, else a client id kept in Redis for the whole fleet */
  configuredClientId: string;
  requestAnonymousToken(clientId: string): Promise<{ token: string; userId?: string; expiresAt?: string }>;
}

const LOCK_TTL_MS = 15_000;
const WAIT_STEP_MS = 100;
/**
 * How long a worker keeps using the token it last read before reading Redis
 * again (a job makes about ten backend calls). One that another worker has
 * replaced meanwhile costs a 1001, after which `refresh` reads the new one.
 */
const REMEMBER_MS = 10_000;

/**
 * The backend token, shared by every worker through Redis: a configured
 * NEMO_TOKEN first; otherwise (or once the backend rejects it with 1001) an
 * anonymous token. Only one worker at a time asks the token endpoint, behind a
 * lock, because the backend allows one anonymous token per client per 7 days.
 */
export class BackendTokens {
  private readonly key: string;
  private remembered?: { token: string; until: number };

  constructor(
    private readonly redis: Redis,
    prefix: string,
    backendUrl: string,
    private readonly source: TokenSource,
  ) {
    const backend = createHash('sha256').update(backendUrl).digest('hex').slice(0, 12);
    this.key = `${prefix}:backend:${backend}`;
  }

  async current(): Promise<string> {
    if (this.remembered && this.remembered.until > Date.now()) return this.remembered.token;
    return this.remember(await this.lookup());
  }

  /** Called with the token the backend just rejected (1001); returns a fresh one. */
  async refresh(rejected: string | undefined): Promise<string> {
    return this.remember(await this.fresh(rejected));
  }

  private remember(token: string): string {
    this.remembered = { token, until: Date.now() + REMEMBER_MS };
    return token;
  }

  private async lookup(): Promise<string> {
    const cached = await this.redis.get(`${this.key}:token`);
    if (cached) return cached;
    if (this.source.configuredToken && !(await this.redis.exists(`${this.key}:configured-rejected`))) {
      return this.source.configuredToken;
    }
    return this.fresh(undefined);
  }

  private async fresh(rejected: string | undefined): Promise<string> {
    if (rejected && rejected === this.source.configuredToken) {
      await this.redis.set(`${this.key}:configured-rejected`, '1', 'EX', 3600);
    }
    const lockKey = `${this.key}:lock`;
    const owner = randomUUID();
    for (let waited = 0; waited < LOCK_TTL_MS * 2; waited += WAIT_STEP_MS) {
      const cached = await this.redis.get(`${this.key}:token`);
      if (cached && cached !== rejected) return cached;
      if (await this.redis.set(lockKey, owner, 'PX', LOCK_TTL_MS, 'NX')) {
        try {
          const clientId = await this.clientId();
          const { token, userId, expiresAt } = await this.source.requestAnonymousToken(clientId);
          const computed = expiresAt ? Math.floor((Date.parse(expiresAt) - Date.now()) / 1000) - 300 : NaN;
          const ttlS = Number.isFinite(computed) ? Math.max(60, computed) : 6 * 24 * 3600;
          const multi = this.redis.multi().set(`${this.key}:token`, token, 'EX', ttlS);
          if (userId) multi.set(`${this.key}:user`, userId, 'EX', ttlS);
          await multi.exec();
          return token;
        } finally {
          if ((await this.redis.get(lockKey)) === owner) await this.redis.del(lockKey);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    throw new Error('timed out waiting for another worker to fetch a backend token');
  }

  /** The anonymous user behind the current token, if the token is an anonymous one. */
  async anonymousUser(): Promise<string | undefined> {
    return (await this.redis.get(`${this.key}:user`)) ?? undefined;
  }

  private async clientId(): Promise<string> {
    if (this.source.configuredClientId) return this.source.configuredClientId;
    const key = `${this.key}:client-id`;
    await this.redis.set(key, randomUUID(), 'NX');
    return (await this.redis.get(key)) as string;
  }
}
