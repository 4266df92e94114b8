export interface Account {
  /** the bearer token: an account and its token are one record */
  token: string;
  userId: string;
  available: number;
  frozen: number;
}

export type AnonymousTokenResult =
  | { ok: true; token: string; account: Account; expiresAt: Date }
  | { ok: false; retryAfterS: number };
