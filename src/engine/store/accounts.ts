import { newAnonymousUserId, newToken } from './ids.ts';

export interface Account {
  userId: string;
  available: number;
  frozen: number;
}

interface TokenRecord {
  userId: string;
  expiresAt: number;
}

export type AnonymousTokenResult =
  | { ok: true; token: string; account: Account; expiresAt: Date }
  | { ok: false; retryAfterS: number };

export const ANONYMOUS_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;
const RATE_LIMIT_RETRY_AFTER_S = 30;

/** Tokens, the users they stand for, and each user's credits. */
export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** the token each client id was last given: one anonymous token per client per TTL */
  private readonly tokenByClient = new Map<string, string>();
  private issued = 0;

  constructor(
    private readonly initialCredits: number,
    staticTokens: readonly string[],
  ) {
    staticTokens.forEach((token, index) => {
      const account = this.openAccount(`user_static_${index + 1}`);
      this.tokens.set(token, { userId: account.userId, expiresAt: Number.POSITIVE_INFINITY });
    });
  }

  issueAnonymous(clientId: string, now = Date.now()): AnonymousTokenResult {
    const previous = this.tokenByClient.get(clientId);
    const previousRecord = previous ? this.tokens.get(previous) : undefined;
    if (previousRecord && previousRecord.expiresAt > now) return { ok: false, retryAfterS: RATE_LIMIT_RETRY_AFTER_S };
    const account = this.openAccount(newAnonymousUserId());
    const token = newToken();
    const expiresAt = now + ANONYMOUS_TOKEN_TTL_MS;
    this.tokens.set(token, { userId: account.userId, expiresAt });
    this.tokenByClient.set(clientId, token);
    this.issued += 1;
    return { ok: true, token, account, expiresAt: new Date(expiresAt) };
  }

  /** anonymous tokens issued since the engine started */
  get issuedCount(): number {
    return this.issued;
  }

  /** Every token stops working now, as if all had expired (a fault). */
  expireAll(): void {
    for (const record of this.tokens.values()) record.expiresAt = 0;
  }

  /** The account a bearer token stands for, if the token is known and unexpired. */
  authenticate(token: string, now = Date.now()): Account | undefined {
    const record = this.tokens.get(token);
    if (!record || record.expiresAt <= now) return undefined;
    return this.accounts.get(record.userId);
  }

  /** Takes credits if there are enough; false leaves the balance untouched. */
  charge(account: Account, amount: number): boolean {
    if (account.available < amount) return false;
    account.available -= amount;
    return true;
  }

  private openAccount(userId: string): Account {
    const account = { userId, available: this.initialCredits, frozen: 0 };
    this.accounts.set(userId, account);
    return account;
  }
}
