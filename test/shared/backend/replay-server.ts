import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the replay server received it, body included. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type ReplayHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP server on 127.0.0.1 that answers each `METHOD /path` with the
 * exact bytes a test scripts, and records what it received.
 */
export class ReplayServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, ReplayHandler>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ReplayServer> {
    let replay: ReplayServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
        replay?.requests.push(request);
        const handler = replay?.routes.get(`${request.method} ${request.path}`);
        if (!handler) return sendJson(res, 404, { detail: 'Not Found' });
        Promise.resolve(handler(request, res)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    replay = new ReplayServer(server, `http://127.0.0.1:${port}`);
    return replay;
  }

  /** Scripts the answer to `METHOD /path`. */
  on(route: string, handler: ReplayHandler): void {
    this.routes.set(route, handler);
  }

  reset(): void {
    this.routes.clear();
    this.requests.length = 0;
  }

  last(): RecordedRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('the replay server received no request');
    return request;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendRaw(response, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

export function sendRaw(response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

/**
 * Writes each chunk as its own socket write, pausing between them so that they
 * tend to reach the client in separate reads.
 */
export async function writeChunks(response: ServerResponse, chunks: (string | Buffer)[]): Promise<void> {
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => response.write(chunk, (error) => (error ? reject(error) : resolve())));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
}
