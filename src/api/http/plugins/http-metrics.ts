import fp from 'fastify-plugin';
import { metrics } from '../../../shared/infra/metrics/registry.ts';

/** Counts and times every answered request by its route pattern (never the raw URL, so labels stay bounded). */
export const httpMetricsPlugin = fp(async (app) => {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
});
