import { ulid } from 'ulid';

/** Time-ordered ids (ULID, lower-cased): lexical order is creation order, so lists can page by id. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}
