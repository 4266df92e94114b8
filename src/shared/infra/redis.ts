import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

export type { Redis } from 'ioredis';

/**
 * A connection. BullMQ workers need `maxRetriesPerRequest: null` so a
 * Redis restart pauses them instead of failing jobs.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/**
 * A connection for code that answers requests: a command fails after
 * `timeoutMs` (a frozen Redis never answers, a TCP connection can look alive
 * for minutes) and at once while the connection is down, instead of waiting
 * for Redis to return, so a request gets its answer (503) in time. Commands
 * that failed are dropped, not sent later when Redis is back. Not for BullMQ
 * workers or blocking commands.
 */
export function createRequestRedis(url: string, timeoutMs: number): Redis {
  return createRedis(url, { commandTimeout: timeoutMs, maxRetriesPerRequest: 0 });
}

/** ioredis's words for a command that never reached, or never heard back from, Redis. */
const UNREACHABLE = /^(Command timed out|Connection is closed|Stream isn't writeable|Reached the max retries per request limit)/;
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
