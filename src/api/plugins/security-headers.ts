import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

/**
 * Helmet's headers on every reply, so every HTML page (the page at `/`,
 * `/docs`, `/admin/queues`) gets them whoever adds it: a Content-Security-
 * Policy that lets only this origin's scripts run (no inline script, no
 * eval), `X-Content-Type-Options: nosniff`, `X-Frame-Options`, no referrer
 * to other sites. On JSON and media replies they cost nothing and do no harm.
 */
export const securityHeadersPlugin = fp(async (app) => {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        // a plain-http deployment (a laptop, a LAN) would have every asset upgraded to an https nobody serves
        upgradeInsecureRequests: null,
      },
    },
  });
});
