import cors from '@fastify/cors';
import fp from 'fastify-plugin';

/** What a browser app on an allowed origin may send, and read back. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'prefer', 'range', 'if-none-match'];
const EXPOSED_HEADERS = [
  'location', 'idempotent-replayed', 'preference-applied', 'etag', 'content-range', 'accept-ranges',
  'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after', 'www-authenticate',
];

/**
 * Cross-origin requests from browsers: off (no CORS header at all, so
 * browsers keep other sites' pages out) unless CORS_ORIGINS lists origins.
 * Registered before auth: a preflight carries no key and is answered here.
 * Keys travel in the Authorization header, never cookies, so credentials
 * mode stays off.
 */
export const corsPlugin = fp<{ origins: readonly string[] }>(async (app, { origins }) => {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
  });
});
