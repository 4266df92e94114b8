import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from '../../../shared/infra/redis.ts';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { leasedRedisStore } from './rate-limit-lease.ts';

export interface RateLimitOptions {
  /** requests per API key per minute */
  perMinute: number;
  /** shared by every API process; in memory when absent */
  redis?: Redis;
  nameSpace: string;
}

/**
 * Requests per API key (not per IP: many clients sit behind one proxy), counted
 * in Redis so every API process shares the budget. Each process leases blocks
 * of a key's budget from Redis and counts them down locally (see
 * LeasedRedisStore), so a busy key costs one round trip per block, not per
 * request, and the processes together never go over the limit. Runs after
 * auth, so it knows the tenant; public routes are not limited.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app, options) => {
  const { redis, nameSpace } = options;
  const store = redis ? leasedRedisStore(redis, nameSpace) : undefined;
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: options.perMinute,
    timeWindow: 60_000,
    ...(store && { store }),
    enableDraftSpec: true,
    keyGenerator: (request) => (request.tenant ? `key:${request.keyId}` : `ip:${request.ip}`),
    allowList: (request) => request.routeOptions.config.public === true,
    errorResponseBuilder: (_request, context) =>
      new ProblemError('rate_limited', 'Too many requests', `At most ${context.max} requests a minute per API key; retry in ${context.after}.`),
  });
});
