import { createHash, timingSafeEqual } from 'node:crypto';

/** The user name a browser sends with the admin key as password (HTTP Basic). */
export const ADMIN_USER = 'admin';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The ADMIN_KEY check shared by the API's admin routes and the workers'
 * metrics servers: `Authorization: Bearer <key>`, or Basic `admin:<key>` so a
 * browser can open the dashboard. Digests are compared in constant time, so
 * neither the key nor its length leaks through timing.
 */
export class AdminKey {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = digest(key);
  }

  /** Whether an Authorization header carries the key. */
  accepts(authorization: string | undefined): boolean {
    const offered = offeredKey(authorization ?? '');
    return offered !== undefined && timingSafeEqual(digest(offered), this.#digest);
  }
}

function offeredKey(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === ADMIN_USER ? decoded.slice(colon + 1) : undefined;
}
