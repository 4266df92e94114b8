import type { Redis } from '../infra/redis.ts';

export interface CreditsSnapshot {
  available: number;
  frozen: number;
  total: number;
  checked_at: string;
}

/**
 * The backend balance of the token this deployment uses, as workers last saw
 * it. Workers write it; the API reads it (the API never calls the backend).
 */
export class CreditsCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:backend:credits`;
  }

  async save(balance: { available: number; frozen: number; total: number }): Promise<void> {
    const snapshot: CreditsSnapshot = { ...balance, checked_at: new Date().toISOString() };
    await this.redis.set(this.key, JSON.stringify(snapshot));
  }

  async read(): Promise<CreditsSnapshot | undefined> {
    const raw = await this.redis.get(this.key);
    return raw ? (JSON.parse(raw) as CreditsSnapshot) : undefined;
  }
}
