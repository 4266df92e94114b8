import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { ProblemError } from '../../../shared/errors/problem-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: string;
    /** names the API key the request came with (a prefix of its digest), for per-key counters: never the key */
    keyId: string;
  }
  interface FastifyContextConfig {
    /** routes that anyone may call (health checks, docs) */
    public?: boolean;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * The tenant whose key has this digest. Every stored digest is compared, in
 * constant time, whatever matches: how long the answer takes says nothing
 * about which key, or how much of one, was right.
 */
function tenantOf(keys: readonly { digest: Buffer; tenant: string }[], offered: Buffer): string | undefined {
  let found: string | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, offered)) found ??= key.tenant;
  return found;
}

/**
 * Bearer API keys, one tenant each. The plugin keeps only the keys' SHA-256
 * digests, never the keys.
 */
export const authPlugin = fp<{ keys: Map<string, string> }>(async (app, { keys }) => {
  const digests = [...keys].map(([key, tenant]) => ({ digest: digest(key), tenant }));
  app.decorateRequest('tenant', '');
  app.decorateRequest('keyId', '');
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const offered = match?.[1] ? digest(match[1]) : undefined;
    const tenant = offered ? tenantOf(digests, offered) : undefined;
    if (!tenant) {
      reply.header('www-authenticate', 'Bearer');
      throw new ProblemError('unauthorized', 'Unauthorized', match ? 'The API key is not valid.' : 'Send an API key as "Authorization: Bearer <key>".');
    }
    request.tenant = tenant;
    request.keyId = offered!.subarray(0, 12).toString('hex');
  });
});
