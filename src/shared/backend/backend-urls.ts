/**
 * The base URLs of one backend (BACKEND_URL may list several, comma-separated:
 * engines sharing one state, or one deployment behind several addresses), and
 * which of them answer. Calls rotate over the URLs that answer, one URL a call
 * (no stickiness: any of them answers any session). A URL that fails is left
 * out for a cooldown, doubled for each failure in a row up to COOLDOWN_MAX_MS;
 * once it is over, one call tries it first (half-open) while other calls keep
 * away from it, and a reply makes it a member again.
 */

/** The entries of a BACKEND_URL value, each checked: an http(s) URL, listed once. */
export function parseBackendUrls(raw: string): { urls: URL[]; problems: string[] } {
  const urls: URL[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(entry.endsWith('/') ? entry : `${entry}/`);
    } catch {
      problems.push(`"${displayEntry(entry)}" is not a URL`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`"${displayUrl(url)}" is not an http(s) URL`);
    else if (url.search || url.hash) problems.push(`"${displayUrl(url)}" has a query or fragment; a base URL is a scheme, host, port and path`);
    else if (urls.some((seen) => seen.href === url.href)) problems.push(`"${displayUrl(url)}" is listed twice`);
    else urls.push(url);
  }
  return { urls, problems };
}

/** A URL as logs, health output and errors show it: without user name, password, query or fragment. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
}

/** An entry that is not a URL, with whatever looks like credentials (`user:pass@`) cut out. */
function displayEntry(entry: string): string {
  return entry.replace(/\/\/[^/@]*@/, '//');
}

/** A listed URL's health: failures in a row, until when it is left out, whether a call is trying it (half-open). */
interface Health {
  failures: number;
  retryAt: number;
  probing: boolean;
}

export interface BackendUrlsOptions {
  /** the first cooldown of a URL that failed; doubled for each failure in a row */
  cooldownMs?: number;
  now?: () => number;
}

export const DEFAULT_COOLDOWN_MS = 5_000;
const COOLDOWN_MAX_MS = 60_000;

export class BackendUrls {
  readonly urls: readonly URL[];
  private readonly health: Health[];
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private cursor = 0;

  /** `list`: a BACKEND_URL value (one URL or several, comma-separated) or its URLs. */
  constructor(list: string | readonly URL[], options: BackendUrlsOptions = {}) {
    if (typeof list === 'string') {
      const { urls, problems } = parseBackendUrls(list);
      if (problems.length > 0 || urls.length === 0) throw new Error(`BACKEND_URL: ${problems.join('; ') || 'no URL'}`);
      this.urls = urls;
    } else {
      this.urls = list;
    }
    this.health = this.urls.map(() => ({ failures: 0, retryAt: 0, probing: false }));
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.now = options.now ?? Date.now;
  }

  /** The first URL: the base of relative links. */
  get primary(): URL {
    return this.urls[0] as URL;
  }

  /** The list as logs and health output show it (no credentials). */
  describe(): string {
    return this.urls.map(displayUrl).join(',');
  }

  /**
   * The URLs one call tries, in order: a URL whose cooldown is over and that
   * no call is trying (to find out whether it is back), those that answer
   * (rotated, one step a call; `preferred` first when it answers), and last
   * the ones still cooling down, soonest first, so that a call fails only
   * when every URL has failed it.
   */
  plan(preferred?: URL): URL[] {
    const now = this.now();
    const n = this.urls.length;
    const start = this.cursor;
    this.cursor = (this.cursor + 1) % n;
    const rotated = this.urls.map((_, i) => (start + i) % n);
    const due = rotated.filter((i) => this.at(i).failures > 0 && this.at(i).retryAt <= now && !this.at(i).probing);
    const up = rotated.filter((i) => this.at(i).failures === 0);
    const preferredAt = preferred ? up.findIndex((i) => this.urls[i]?.href === preferred.href) : -1;
    if (preferredAt > 0) up.unshift(...up.splice(preferredAt, 1));
    const cooling = rotated
      .filter((i) => !due.includes(i) && !up.includes(i))
      .sort((a, b) => this.at(a).retryAt - this.at(b).retryAt);
    return [...due, ...up, ...cooling].map((i) => this.urls[i] as URL);
  }

  /** A call is about to try `url`: when its cooldown is over, other calls keep away until this one tells how it went. */
  trying(url: URL): void {
    const health = this.of(url);
    if (health && health.failures > 0) health.probing = true;
  }

  /** `url` answered (any HTTP reply but a gateway's 502/503/504). */
  answered(url: URL): void {
    const health = this.of(url);
    if (health) Object.assign(health, { failures: 0, retryAt: 0, probing: false });
  }

  /** `url` did not answer: it is left out for a cooldown, twice as long as the last one. */
  failed(url: URL): void {
    const health = this.of(url);
    if (!health) return;
    health.failures += 1;
    const cooldown = Math.min(this.cooldownMs * 2 ** (health.failures - 1), Math.max(this.cooldownMs, COOLDOWN_MAX_MS));
    Object.assign(health, { retryAt: this.now() + cooldown, probing: false });
  }

  /** The call ended without telling whether `url` answers (aborted by its caller). */
  released(url: URL): void {
    const health = this.of(url);
    if (health) health.probing = false;
  }

  /** The listed URL an absolute URL is on (same origin and under its path, else same origin), if any. */
  baseOf(target: URL): URL | undefined {
    const sameOrigin = this.urls.filter((url) => url.origin === target.origin);
    return sameOrigin.find((url) => target.pathname.startsWith(url.pathname)) ?? sameOrigin[0];
  }

  /** `target`, which is on `from`, moved to the same place on `to`. */
  static moved(target: URL, from: URL, to: URL): URL {
    const rest = target.pathname.startsWith(from.pathname) ? target.pathname.slice(from.pathname.length) : target.pathname.replace(/^\//, '');
    return new URL(`${rest}${target.search}`, to);
  }

  private at(i: number): Health {
    return this.health[i] as Health;
  }

  private of(url: URL): Health | undefined {
    return this.health[this.urls.findIndex((listed) => listed.href === url.href)];
  }
}
