import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import { ProblemError } from '../../shared/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    tenant: string;
  }
  interface FastifyContextConfig {
    /** routes that anyone may call (health checks, docs) */
    public?: boolean;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * Bearer API keys, one tenant each. Keys are held only as SHA-256 digests, so
 * the lookup never compares secrets byte by byte.
 */
export const authPlugin = fp<{ keys: Map<string, string> }>(async (app, { keys }) => {
  const tenantByDigest = new Map([...keys].map(([key, tenant]) => [digest(key), tenant]));
  app.decorateRequest('tenant', '');
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const tenant = match?.[1] ? tenantByDigest.get(digest(match[1])) : undefined;
    if (!tenant) {
      reply.header('www-authenticate', 'Bearer');
      throw new ProblemError(401, 'unauthorized', 'Unauthorized', match ? 'The API key is not valid.' : 'Send an API key as "Authorization: Bearer <key>".');
    }
    request.tenant = tenant;
  });
});
