import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from '../shared/infra/redis.ts';
import type { BackendTokenKind } from '../shared/jobs/job-record.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { metrics } from '../shared/infra/metrics/registry.ts';
import { TokenRejections } from '../shared/backend/token-rejection.ts';

export interface TokenSource {
  /** NEMO_TOKEN, when the deployment has one */
  configuredToken: string;
  /** NEMO_CLIENT_ID, else a client id kept in Redis for the whole fleet */
  configuredClientId: string;
  requestAnonymousToken(clientId: string): Promise<{ token: string; userId?: string; expiresAt?: string }>;
}

export interface TokenRetry {
  /** NEMO_TOKEN_RETRY_S: the wait after a first rejection; doubled after each rejection in a row */
  firstWaitMs: number;
  /** the longest wait */
  maxWaitMs: number;
}

const LOCK_TTL_MS = 15_000;
const WAIT_STEP_MS = 100;
/**
 * How long a worker keeps using the token it last read before reading Redis
 * again (a job makes about ten backend calls). One that another worker has
 * replaced meanwhile costs a 1001, after which `refresh` reads the new one.
 */
const REMEMBER_MS = 10_000;

/** A backend token and which kind it is. */
export interface BackendToken {
  token: string;
  kind: BackendTokenKind;
}

/**
 * The backend token, shared by every worker through Redis: a configured
 * NEMO_TOKEN first; otherwise an anonymous token. When the backend rejects
 * NEMO_TOKEN (1001), the fleet uses an anonymous token while it waits, then
 * tries NEMO_TOKEN again (waits double after each rejection in a row), so a
 * token that was renewed or briefly refused comes back on its own. Sessions
 * and renders belong to the account that made them, so a job keeps the kind
 * of token its session was made with (`current(pinned)`). Only one worker at
 * a time asks the token endpoint, behind a lock, because the backend allows
 * one anonymous token per client per 7 days.
 */
export class BackendTokens {
  private readonly key: string;
  private readonly rejections: TokenRejections;
  /** the kind new sessions get, as last read from Redis */
  private choice?: { kind: BackendTokenKind; until: number };
  private anonymous?: { token: string; until: number };
  /** NEMO_TOKEN is being tried again after a rejection: its first success clears the rejection */
  private retryingConfigured = false;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    backendUrl: string,
    private readonly source: TokenSource,
    private readonly retry: TokenRetry = { firstWaitMs: 60_000, maxWaitMs: 3_600_000 },
    private readonly logger?: Logger,
  ) {
    const backend = createHash('sha256').update(backendUrl).digest('hex').slice(0, 12);
    this.key = `${prefix}:backend:${backend}`;
    this.rejections = new TokenRejections(redis, prefix);
  }

  /** The token of kind `pinned` (a job's session's), else the kind the fleet uses now. */
  async current(pinned?: BackendTokenKind): Promise<BackendToken> {
    const kind = pinned === 'configured' && !this.source.configuredToken ? 'anonymous' : (pinned ?? (await this.choose()));
    return kind === 'configured' ? { token: this.source.configuredToken, kind } : { token: await this.anonymousToken(), kind };
  }

  /** Called with the token the backend just rejected (1001); returns a fresh one. */
  async refresh(rejected: BackendToken): Promise<BackendToken> {
    metrics.backendTokenRejections.inc({ token: rejected.kind });
    if (rejected.kind === 'anonymous') return { token: this.rememberAnonymous(await this.fresh(rejected.token)), kind: 'anonymous' };
    this.retryingConfigured = false;
    const { rejection, counted } = await this.rejections.reject(this.retry.firstWaitMs, this.retry.maxWaitMs);
    if (counted) {
      this.logger?.warn({ rejections: rejection.rejections, retry_at: rejection.retryAt }, 'the backend rejected NEMO_TOKEN; using an anonymous token until it is tried again');
    }
    this.choice = { kind: 'anonymous', until: Math.min(Date.parse(rejection.retryAt), Date.now() + REMEMBER_MS) };
    return { token: await this.anonymousToken(), kind: 'anonymous' };
  }

  /** Called after a backend call succeeded with `token`. */
  async accepted(token: BackendToken): Promise<void> {
    if (!this.retryingConfigured || token.kind !== 'configured') return;
    this.retryingConfigured = false;
    await this.rejections.clear();
    this.logger?.info('the backend accepted NEMO_TOKEN again');
  }

  /** NEMO_TOKEN unless the backend rejected it and the wait before trying it again has not run out. */
  private async choose(): Promise<BackendTokenKind> {
    if (!this.source.configuredToken) return 'anonymous';
    if (this.choice && this.choice.until > Date.now()) return this.choice.kind;
    const rejection = await this.rejections.read();
    const retryAt = rejection ? Date.parse(rejection.retryAt) : 0;
    const kind = retryAt <= Date.now() ? 'configured' : 'anonymous';
    if (kind === 'configured') this.retryingConfigured = Boolean(rejection);
    this.choice = { kind, until: Math.min(Date.now() + REMEMBER_MS, kind === 'anonymous' ? retryAt : Number.POSITIVE_INFINITY) };
    return kind;
  }

  private async anonymousToken(): Promise<string> {
    if (this.anonymous && this.anonymous.until > Date.now()) return this.anonymous.token;
    const cached = await this.redis.get(`${this.key}:token`);
    return this.rememberAnonymous(cached ?? (await this.fresh(undefined)));
  }

  private rememberAnonymous(token: string): string {
    this.anonymous = { token, until: Date.now() + REMEMBER_MS };
    return token;
  }

  private async fresh(rejected: string | undefined): Promise<string> {
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

  /** The anonymous user behind the anonymous token, the one new sessions get when `kind` is not given. */
  async anonymousUser(kind?: BackendTokenKind): Promise<string | undefined> {
    if ((kind ?? (await this.choose())) === 'configured') return undefined;
    return (await this.redis.get(`${this.key}:user`)) ?? undefined;
  }

  private async clientId(): Promise<string> {
    if (this.source.configuredClientId) return this.source.configuredClientId;
    const key = `${this.key}:client-id`;
    await this.redis.set(key, randomUUID(), 'NX');
    return (await this.redis.get(key)) as string;
  }
}
