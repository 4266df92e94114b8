export interface Account {
  userId: string;
  available: number;
  frozen: number;
}

export type AnonymousTokenResult =
  | { ok: true; token: string; account: Account; expiresAt: Date }
  | { ok: false; retryAfterS: number };
