import dns from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { JobError } from '../errors/job-error.ts';

/**
 * Which addresses a URL supplied by a user (an input to fetch, a webhook to
 * call) may reach: public ones, and those URL_FETCH_ALLOWLIST names. The URL
 * is checked as written, and its host again when the socket connects (DNS
 * resolved once, the connection pinned to the checked address).
 */
export class UrlForbiddenError extends JobError {
  constructor(reason: string) {
    super('url_forbidden', reason);
  }
}

/** Resolves a host name to every address it has (the system resolver unless a test gives its own). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: HostLookup = (hostname) => dns.promises.lookup(hostname, { all: true });

interface Allowlist {
  hosts: Set<string>;
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

function parseAllowlist(entries: readonly string[]): Allowlist {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    if (entry.includes('/') && ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.process(entry);
      ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry.toLowerCase());
  }
  return { hosts, ranges };
}

/** IANA's global unicast block: ipaddr.js calls anything unclassified "unicast", 4000::/2 included. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** ipaddr.js's name for the address's range; "unicast" only for a public address. */
function rangeOf(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  const range = addr.range();
  if (range === 'unicast' && addr.kind() === 'ipv6' && !addr.match(IPV6_GLOBAL_UNICAST)) return 'reserved';
  return range;
}

/** Why an address may not be reached, or undefined when it may. */
function addressRefusal(address: string, hostname: string, allow: Allowlist): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  const addr = ipaddr.process(address);
  const range = rangeOf(addr);
  if (range === 'unicast') return undefined;
  if (allow.hosts.has(hostname.toLowerCase())) return undefined;
  if (allow.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits))) return undefined;
  return `${hostname} resolves to ${address}, a ${range} address that is not reachable from this service (add it to URL_FETCH_ALLOWLIST to allow it)`;
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/** Checks a URL's scheme and, when its host is an IP literal, its address. */
export function checkUrl(raw: string, allowlist: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlForbiddenError(`"${raw.slice(0, 200)}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlForbiddenError(`${url.protocol} URLs are not fetched; use http or https`);
  }
  if (url.username || url.password) throw new UrlForbiddenError('URLs with credentials are not fetched');
  const host = stripBrackets(url.hostname);
  if (ipaddr.isValid(host)) {
    const refusal = addressRefusal(host, host, parseAllowlist(allowlist));
    if (refusal) throw new UrlForbiddenError(refusal);
  }
  return url;
}

/** True when the URL's host is on the allowlist (by name, address or range). */
function isAllowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = stripBrackets(url.hostname).toLowerCase();
  const allow = parseAllowlist(allowlist);
  if (allow.hosts.has(host)) return true;
  if (!ipaddr.isValid(host)) return false;
  const addr = ipaddr.process(host);
  return allow.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits));
}

/**
 * A URL this service will call back (a webhook): https, or http only for an
 * allow-listed host; never a private, loopback or metadata address (checked
 * again after DNS resolution when it is called).
 */
export function checkCallbackUrl(raw: string, allowlist: readonly string[]): URL {
  const url = checkUrl(raw, allowlist);
  const allowed = isAllowlisted(url, allowlist);
  if (url.protocol !== 'https:' && !allowed) throw new UrlForbiddenError('webhook URLs must use https (http only for hosts in URL_FETCH_ALLOWLIST)');
  const host = url.hostname.toLowerCase();
  if ((host === 'localhost' || host.endsWith('.localhost')) && !allowed) throw new UrlForbiddenError(`${host} is not reachable from this service`);
  return url;
}

/**
 * An agent whose sockets connect only to public or allow-listed addresses:
 * the host is resolved once per connection, every address it has must pass,
 * and the socket is handed the first of them, so no second resolution can
 * swap in another (DNS rebinding).
 */
export function publicOnlyAgent(allowlist: readonly string[], connectMs: number, resolve: HostLookup = systemLookup): Agent {
  const allow = parseAllowlist(allowlist);
  const lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    resolve(hostname).then(
      (addresses) => {
        for (const entry of addresses) {
          const refusal = addressRefusal(entry.address, hostname, allow);
          // handed over as it is: its code (url_forbidden) is what the job records
          if (refusal) return callback(new UrlForbiddenError(refusal), '', 0);
        }
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, [first]);
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
  return new Agent({ connect: { lookup: lookup as never, timeout: connectMs } });
}
