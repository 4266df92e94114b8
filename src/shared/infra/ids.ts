import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * ulid's own source asks the OS for one random byte per character (16
 * calls per id); this one takes them from a pool refilled 4 KB at a time.
 */
function randomFraction(): number {
  if (used >= pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  return (pool[used++] as number) / 256;
}

/** Time-ordered ids (ULID, lower-cased): lexical order is creation order, so lists can page by id. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid(undefined, randomFraction).toLowerCase()}`;
}
