import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/** The API's helmet options; a route may replace some with its own (`config.helmet`). */
const GLOBAL_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      // a plain-http deployment (a laptop, a LAN) would have every asset upgraded to an https nobody serves
      upgradeInsecureRequests: null,
    },
  },
};

type Headers = Record<string, string>;

/**
 * The headers helmet sets with these options, found once by running its
 * middleware against a response that only records them. They depend on
 * nothing in the request as long as no CSP directive is a function (a
 * per-request nonce), which is refused here.
 */
export function helmetHeaders(options: HelmetOptions): Headers {
  const csp = options.contentSecurityPolicy;
  const directives = csp && typeof csp === 'object' ? Object.values(csp.directives ?? {}) : [];
  if (directives.some((value) => typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function')))) {
    throw new Error('security headers are computed once: a CSP directive cannot be a function of the request');
  }
  const headers: Headers = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/**
 * Helmet's headers on every reply, so every HTML page (the page at `/`,
 * `/docs`, `/admin/queues`) gets them whoever adds it: a Content-Security-
 * Policy that lets only this origin's scripts run (no inline script, no
 * eval), `X-Content-Type-Options: nosniff`, `X-Frame-Options`, no referrer
 * to other sites. They are computed once per set of options (the API's, and
 * a route's own `config.helmet`, whose options replace the API's one by one),
 * not by running helmet on every request (which re-parses the CSP each time).
 */
export const securityHeadersPlugin = fp(async (app) => {
  const global = helmetHeaders(GLOBAL_OPTIONS);
  const perRoute = new WeakMap<object, Headers>();
  const routeHeaders = (own: HelmetOptions): Headers => {
    let headers = perRoute.get(own);
    if (!headers) {
      headers = helmetHeaders({ ...GLOBAL_OPTIONS, ...own } as HelmetOptions);
      perRoute.set(own, headers);
    }
    return headers;
  };
  app.addHook('onRequest', (request, reply, done) => {
    const own = request.routeOptions.config.helmet;
    reply.headers(own ? routeHeaders(own) : global);
    done();
  });
});
