import fp from 'fastify-plugin';
import type { AdminKey } from '../../../shared/infra/admin-key.ts';
import { sendProblem } from '../problems.ts';

export interface AdminAuthOptions {
  adminKey: AdminKey;
  /** the scheme a 401 asks for: Basic makes a browser prompt (the dashboard), Bearer suits scrapers and scripts */
  challenge: 'Basic' | 'Bearer';
}

/**
 * Guards every route of the scope it is registered in with ADMIN_KEY instead
 * of a tenant's API key: the routes are marked `public` so the tenant key
 * check and the per-key rate limit pass them by, and this hook checks the
 * admin key (Bearer, or Basic as user "admin"). The 401 is sent from the hook
 * itself, so a scope with its own error handler (the dashboard's) cannot turn
 * it into something else.
 */
export const adminAuthPlugin = fp<AdminAuthOptions>(async (app, { adminKey, challenge }) => {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });
  app.addHook('onRequest', async (request, reply) => {
    if (adminKey.accepts(request.headers.authorization)) return;
    reply.header('www-authenticate', `${challenge} realm="i2v admin"`);
    return sendProblem(reply, {
      code: 'unauthorized',
      title: 'Unauthorized',
      detail: request.headers.authorization
        ? 'The admin key is not valid.'
        : 'Send the admin key (ADMIN_KEY) as "Authorization: Bearer <key>", or as the password of user "admin".',
    });
  });
});
