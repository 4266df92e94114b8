import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** the payload, parsed */
  event: { type: string; timestamp: string; data: Record<string, any> };
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** wait this long before answering */
  delayMs?: number;
}

/**
 * A real webhook receiver on loopback: records every request and answers by
 * path (a function of how many times that path was called, 1-based); 200 by
 * default. Other paths can serve files (the jobs' images).
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, (n: number) => Answer>();
  private readonly files = new Map<string, { type: string; bytes: Buffer }>();
  private readonly counts = new Map<string, number>();
  private server!: Server;
  url = '';

  /** `host`: a loopback address to listen on (Linux answers on all of 127.0.0.0/8) */
  async start(host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      const file = this.files.get(path);
      if (req.method === 'GET') {
        if (file) return void res.writeHead(200, { 'content-type': file.type }).end(file.bytes);
        return void res.writeHead(404).end();
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const n = (this.counts.get(path) ?? 0) + 1;
        this.counts.set(path, n);
        this.received.push({ path, headers: req.headers, body, at: Date.now(), event: JSON.parse(body) });
        const answer = this.answers.get(path)?.(n) ?? { status: 200 };
        const send = () => void (res.destroyed || res.writeHead(answer.status, answer.headers).end(answer.body ?? ''));
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    this.url = `http://${host}:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  answer(path: string, fn: (n: number) => Answer): string {
    this.answers.set(path, fn);
    return `${this.url}${path}`;
  }

  serve(path: string, type: string, bytes: Buffer): string {
    this.files.set(path, { type, bytes });
    return `${this.url}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `path` has received at least `count` requests. */
  async waitFor(path: string, count = 1, timeoutMs = 20_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.at(path).length < count) {
      if (Date.now() > deadline) throw new Error(`${path} received ${this.at(path).length} of ${count} requests in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.at(path);
  }

  close(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}

/** Verifies a delivery the way a receiver would, with the standardwebhooks package; throws when it does not verify. */
export function verify(secret: string, received: Received): unknown {
  return new Webhook(secret).verify(received.body, received.headers as Record<string, string>);
}
