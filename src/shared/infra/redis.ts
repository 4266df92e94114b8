import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis as StandaloneRedis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { SwitchoverAwareConnector, switchoverWatch } from './sentinel-switchover.ts';

/** A connection: to one Redis (a URL, or the master a set of sentinels names) or to a Redis Cluster. */
export type Redis = StandaloneRedis | Cluster;

/** The settings that say where Redis is and how to reach it. */
export type RedisSettings = Pick<
  Config,
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_USERNAME'
  | 'REDIS_PASSWORD'
  | 'REDIS_TLS'
  | 'REDIS_TLS_CA'
  | 'REDIS_TLS_CERT'
  | 'REDIS_TLS_KEY'
>;

/** TLS options from the settings (a private CA, a client certificate), or undefined without TLS. */
function tlsOf(settings: RedisSettings): ConnectionOptions | undefined {
  const on = settings.REDIS_SENTINELS || settings.REDIS_CLUSTER_NODES ? settings.REDIS_TLS : settings.REDIS_URL.startsWith('rediss://');
  if (!on) return undefined;
  const pem = (file: string | undefined) => (file ? readFileSync(file) : undefined);
  return Object.fromEntries(
    Object.entries({ ca: pem(settings.REDIS_TLS_CA), cert: pem(settings.REDIS_TLS_CERT), key: pem(settings.REDIS_TLS_KEY) }).filter(([, v]) => v !== undefined),
  );
}

/**
 * A write that reached a master demoted to replica (a Sentinel failover, a
 * managed Redis's switch-over): reconnect, which finds the new master, and
 * send the command again.
 */
const reconnectOnReadOnly = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false);

/**
 * A connection, from the settings: one Redis (REDIS_URL; rediss:// for TLS),
 * the master of a Sentinel set (REDIS_SENTINELS + REDIS_SENTINEL_MASTER;
 * after a failover it reconnects to the new master, subscriptions included),
 * or a Redis Cluster (REDIS_CLUSTER_NODES). A bare URL is one Redis.
 * BullMQ workers need `maxRetriesPerRequest: null` (the default here) so a
 * Redis restart pauses them instead of failing jobs; `options` apply to
 * every node's connection.
 */
export function createRedis(url: string, options?: RedisOptions): StandaloneRedis;
export function createRedis(target: string | RedisSettings, options?: RedisOptions): Redis;
export function createRedis(target: string | RedisSettings, options: RedisOptions = {}): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, reconnectOnError: reconnectOnReadOnly, ...options };
  if (typeof target === 'string') return new StandaloneRedis(target, base);
  const tls = tlsOf(target);
  const auth = { username: target.REDIS_USERNAME, password: target.REDIS_PASSWORD };
  if (target.REDIS_CLUSTER_NODES) {
    const { lazyConnect, ...nodeOptions } = base;
    return new Cluster(target.REDIS_CLUSTER_NODES, {
      lazyConnect,
      redisOptions: { ...nodeOptions, ...auth, tls },
      // the nodes' own addresses, as CLUSTER SLOTS gives them, are used as they are (no DNS round for IPs)
      dnsLookup: (address, callback) => callback(null, address),
    });
  }
  if (target.REDIS_SENTINELS) {
    const sentinel = {
      sentinels: target.REDIS_SENTINELS,
      name: target.REDIS_SENTINEL_MASTER,
      sentinelPassword: target.REDIS_SENTINEL_PASSWORD,
      sentinelTLS: tls,
      enableTLSForSentinelMode: tls !== undefined,
    };
    const watch = switchoverWatch(sentinel);
    return new StandaloneRedis({
      ...base,
      ...auth,
      ...sentinel,
      tls,
      // connections leave the old master when a failover starts, not when it ends (sentinel-switchover.ts)
      Connector: SwitchoverAwareConnector,
      // a sentinel that has not heard of the switch yet still names the old master
      natMap: (address) => watch.redirect(address),
    });
  }
  return new StandaloneRedis(target.REDIS_URL, { ...base, tls });
}

/**
 * A connection for code that answers requests: a command fails after
 * `timeoutMs` (a frozen Redis never answers, a TCP connection can look alive
 * for minutes) and at once while the connection is down, instead of waiting
 * for Redis to return, so a request gets its answer (503) in time. Commands
 * that failed are dropped, not sent later when Redis is back. Not for BullMQ
 * workers or blocking commands.
 */
export function createRequestRedis(target: string | RedisSettings, timeoutMs: number): Redis {
  return createRedis(target, { commandTimeout: timeoutMs, maxRetriesPerRequest: 0 });
}

/** ioredis's words for a command that never reached, or never heard back from, Redis. */
const UNREACHABLE = /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries per request limit|All sentinels are unreachable)/;
/** Replies of a Redis that cannot serve yet: loading its data, a replica, a cluster without a primary. */
const NOT_SERVING = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/;

/** True when an error (or its cause) says Redis was not reachable or not serving, rather than that a command was wrong. */
export function isRedisUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'MaxRetriesPerRequestError' || UNREACHABLE.test(e.message)) return true;
    if (e.name === 'ReplyError' && NOT_SERVING.test(e.message)) return true;
  }
  return false;
}

/**
 * Logs a connection's outage once (not every reconnect attempt) and its
 * return. Also stands as the connection's error listener, without which
 * ioredis prints every failed reconnect to stderr.
 */
export function logConnectionState(redis: Redis, logger: Logger, name: string): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error({ connection: name, err: error }, 'Redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ connection: name }, 'Redis connection back');
  });
}

/** Node's codes for a TCP connection that could not be made or was lost. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Listens for BullMQ objects' `error` events: connection errors, which every
 * queue and worker on a connection repeats on each reconnect attempt, are
 * left to logConnectionState; anything else is logged. Without a listener
 * BullMQ prints each error to stderr.
 */
export function logQueueErrors(logger: Logger, ...emitters: { on(event: 'error', listener: (error: Error) => void): unknown }[]): void {
  for (const emitter of emitters) {
    emitter.on('error', (error) => {
      if (isRedisUnavailable(error) || NETWORK_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return;
      logger.error({ err: error }, 'queue error');
    });
  }
}
