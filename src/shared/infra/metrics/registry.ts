import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readTrackedQueueCounts } from './queue-counts.ts';

/**
 * The process's metrics, served in Prometheus format by the API's GET
 * /metrics and by a worker's metrics server, one set per process: this
 * module is the only place metrics are defined, so nothing is registered
 * twice. Label values are bounded: route patterns, status codes, stage and
 * endpoint names.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

export const metrics = {
  httpRequests: new Counter({
    name: 'i2v_http_requests_total',
    help: 'API requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  httpSeconds: new Histogram({
    name: 'i2v_http_request_duration_seconds',
    help: 'Time to answer an API request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  }),
  jobs: new Counter({
    name: 'i2v_jobs_total',
    help: 'Jobs that ended in this worker process, by preset and final status (succeeded, failed, canceled)',
    labelNames: ['preset', 'status'] as const,
    registers,
  }),
  stageSeconds: new Histogram({
    name: 'i2v_stage_duration_seconds',
    help: 'Time a lifecycle stage took to finish, by stage (connect, upload, instruct, render, poll, store)',
    labelNames: ['stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  }),
  renderSeconds: new Histogram({
    name: 'i2v_render_seconds',
    help: 'Time from a render request to the backend reporting it completed',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200],
    registers,
  }),
  renderCacheLookups: new Counter({
    name: 'i2v_render_cache_lookups_total',
    help: "Render cache lookups of jobs about to render, by outcome: hit (an earlier job's output copied, nothing rendered), miss (no entry), stale (an entry whose job or files are gone: a miss)",
    labelNames: ['outcome'] as const,
    registers,
  }),
  backendRequests: new Counter({
    name: 'i2v_backend_requests_total',
    help: "Calls to the render backend, by endpoint and outcome code (0 = success, else the backend's code or network, timeout, bad_reply, stream, aborted)",
    labelNames: ['endpoint', 'code'] as const,
    registers,
  }),
  backendFailovers: new Counter({
    name: 'i2v_backend_failovers_total',
    help: 'Backend calls moved on from one BACKEND_URL to the next because it did not answer (no connection, 502/503/504), by the URL left (without credentials)',
    labelNames: ['url'] as const,
    registers,
  }),
  backendTokenRejections: new Counter({
    name: 'i2v_backend_token_rejections_total',
    help: 'Backend tokens the render backend rejected (1001), by token: configured (NEMO_TOKEN, tried again after a backoff) or anonymous',
    labelNames: ['token'] as const,
    registers,
  }),
  webhookDeliveries: new Counter({
    name: 'i2v_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retrying, failed, gone, skipped, held)',
    labelNames: ['outcome'] as const,
    registers,
  }),
  queueJobs: new Gauge({
    name: 'i2v_queue_jobs',
    help: 'Jobs in each BullMQ queue, by state; read from Redis on each scrape',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      for (const { queue, counts } of await readTrackedQueueCounts()) {
        for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
      }
    },
  }),
};
