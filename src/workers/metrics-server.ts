import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import { problemStatus, type ProblemCode } from '../shared/errors/error-codes.ts';
import type { AdminKey } from '../shared/infra/admin-key.ts';
import { trackQueues } from '../shared/infra/metrics/queue-counts.ts';
import { registry } from '../shared/infra/metrics/registry.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

function problem(res: ServerResponse, code: ProblemCode, title: string, detail: string, headers: Record<string, string> = {}): void {
  const status = problemStatus(code);
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: 'about:blank', title, status, code, detail }));
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  adminKey: AdminKey;
  /** the queues the `i2v_queue_jobs` gauge reads; the server closes them when it closes */
  queues: readonly Queue[];
}

/**
 * A worker's Prometheus endpoint: GET /metrics on `host:port`, with ADMIN_KEY
 * as a Bearer token (or Basic as user "admin"), like the API's.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const untrackQueues = trackQueues(options.queues);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      problem(res, 'not_found', 'Not found', 'A worker serves only GET /metrics.');
      return;
    }
    if (!options.adminKey.accepts(req.headers.authorization)) {
      problem(res, 'unauthorized', 'Unauthorized', 'Send the admin key (ADMIN_KEY) as "Authorization: Bearer <key>".', { 'www-authenticate': 'Bearer realm="i2v admin"' });
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => problem(res, 'internal', 'Internal error', 'The metrics could not be collected.'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    async close() {
      untrackQueues();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(options.queues.map((queue) => queue.close()));
    },
  };
}
