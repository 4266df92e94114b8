import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { ProblemError } from '../../shared/errors.ts';

export interface RateLimitOptions {
  /** requests per API key per minute */
  perMinute: number;
  /** shared by every API process; in memory when absent */
  redis?: Redis;
  nameSpace: string;
}

/**
 * Requests per API key (not per IP: many clients sit behind one proxy), counted
 * in Redis so every API process shares the budget. Runs after auth, so it
 * knows the tenant; public routes are not limited.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app, options) => {
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: options.perMinute,
    timeWindow: 60_000,
    redis: options.redis,
    nameSpace: options.nameSpace,
    enableDraftSpec: true,
    keyGenerator: (request) => (request.tenant ? `key:${request.keyId}` : `ip:${request.ip}`),
    allowList: (request) => request.routeOptions.config.public === true,
    errorResponseBuilder: (_request, context) =>
      new ProblemError(429, 'rate_limited', 'Too many requests', `At most ${context.max} requests a minute per API key; retry in ${context.after}.`),
  });
});
