import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/api/http/plugins/request-limits.ts';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

/**
 * Requests: body size limits per route, JSON depth, unknown fields, bounded
 * strings, Content-Type, and server timeouts against slow clients.
 */

const KEY = 'key-a';
const auth = { authorization: `Bearer ${KEY}` };
const IMAGE = 'https://shop.example/a.jpg';

async function problemOf(response: Response): Promise<{ status: number; code: string; detail: string; errors?: { path: string }[] }> {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return (await response.json()) as never;
}

/** A raw connection: bytes as written, the reply as received, and when the server closed it. */
class RawClient {
  readonly received: Buffer[] = [];
  readonly closed: Promise<number>;
  private readonly socket: Socket;
  private readonly opened = Date.now();

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect({ host: hostname, port: Number(port) });
    this.socket.on('data', (chunk) => this.received.push(chunk));
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve(Date.now() - this.opened)));
  }

  write(text: string): boolean {
    return !this.socket.destroyed && this.socket.write(text);
  }

  /** Writes `text` one byte every `everyMs` until it is all sent or the server closes the connection. */
  async trickle(text: string, everyMs: number): Promise<number> {
    let sent = 0;
    while (sent < text.length && !this.socket.destroyed) {
      this.write(text[sent++]!);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return sent;
  }

  get reply(): string {
    return Buffer.concat(this.received).toString();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('request limits', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: `a=${KEY}`, RATE_LIMIT_PER_MINUTE: '100000', MAX_UPLOAD_MB: '1' } });
  });
  afterAll(async () => service?.close());

  const post = (path: string, body: RequestInit['body'], contentType?: string, headers: Record<string, string> = {}) =>
    fetch(`${service.url}${path}`, { method: 'POST', headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}), ...headers }, body });

  describe('body size, per route', () => {
    it('a job body over 1 MB is 413', async () => {
      const response = await post('/v1/jobs', JSON.stringify({ images: [IMAGE], prompt: 'x'.repeat(1_100_000) }), 'application/json');
      expect(response.status).toBe(413);
      expect(await problemOf(response)).toMatchObject({ code: 'payload_too_large' });
    });

    it('a batch may be larger (8 MB), not more', async () => {
      const items = Array.from({ length: 500 }, () => ({ images: [IMAGE], prompt: 'p'.repeat(3000) }));
      const fits = await post('/v1/batches', JSON.stringify({ items }), 'application/json');
      expect(fits.status).toBe(202);
      const over = await post('/v1/batches', JSON.stringify({ items, pad: 'x'.repeat(8 * 1024 * 1024) }), 'application/json');
      expect(over.status).toBe(413);
    });

    it('a route that takes no body refuses a large one', async () => {
      const id = 'job_00000000000000000000000000';
      const response = await post(`/v1/jobs/${id}/cancel`, JSON.stringify({ pad: 'x'.repeat(20_000) }), 'application/json');
      expect(response.status).toBe(413);
      // a small one is ignored: the job simply does not exist
      expect((await post(`/v1/jobs/${id}/cancel`, '{}', 'application/json')).status).toBe(404);
    });

    it('a file over MAX_UPLOAD_MB is 413', async () => {
      const form = new FormData();
      form.append('images', new Blob([Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), Buffer.alloc(1_200_000)])], { type: 'image/jpeg' }), 'a.jpg');
      const response = await post('/v1/jobs', form);
      expect(response.status).toBe(413);
      expect(await problemOf(response)).toMatchObject({ code: 'payload_too_large' });
    });
  });

  describe('JSON depth', () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

    it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels, whatever the route`, async () => {
      for (const path of ['/v1/jobs', '/v1/batches']) {
        const response = await post(path, `{"images":["${IMAGE}"],"metadata":${nested(MAX_JSON_DEPTH)}}`, 'application/json');
        expect(response.status).toBe(400);
        expect(await problemOf(response)).toMatchObject({ code: 'validation_failed', detail: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
      }
      // a megabyte of brackets is refused as quickly as 33
      const deep = await post('/v1/jobs', `${'['.repeat(500_000)}${']'.repeat(500_000)}`, 'application/json');
      expect(deep.status).toBe(400);
      // brackets inside strings do not count
      const inString = await postJob(service.url, { images: [IMAGE], prompt: '[[[[{{{{'.repeat(100) }, KEY);
      expect(inString.status).toBe(202);
    });

    it('also in the JSON fields of a multipart form', async () => {
      const form = new FormData();
      form.append('options', nested(40));
      form.append('images', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')]), 'a.png');
      const response = await post('/v1/jobs', form);
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body.options' }] });
    });

    it('refuses prototype poisoning', async () => {
      const response = await post('/v1/jobs', `{"images":["${IMAGE}"],"__proto__":{"admin":true}}`, 'application/json');
      expect(response.status).toBe(400);
      await problemOf(response);
    });
  });

  describe('unknown fields are refused, at every level', () => {
    it.each([
      ['the job', { images: [IMAGE], extra: 1 }, 'body'],
      ['its options', { images: [IMAGE], options: { speed: 2 } }, 'body.options'],
      ['a caption', { images: [IMAGE], options: { text: [{ text: 'a', start_s: 0, end_s: 1, blink: true }] } }, 'body.options.text.0'],
      ['the music', { images: [IMAGE], options: { audio: { url: 'https://a.example/a.mp3', loop: true } } }, 'body.options.audio'],
    ])('%s', async (_name, body, path) => {
      const response = await postJob(service.url, body, KEY);
      expect(response.status).toBe(400);
      expect((await problemOf(response)).errors?.[0]?.path).toBe(path);
    });

    it('in a batch, a batch item, a revision, a multipart form and list filters', async () => {
      expect((await post('/v1/batches', JSON.stringify({ items: [{ images: [IMAGE] }], extra: 1 }), 'application/json')).status).toBe(400);
      expect((await post('/v1/batches', JSON.stringify({ items: [{ images: [IMAGE], extra: 1 }] }), 'application/json')).status).toBe(400);
      expect((await post('/v1/jobs/job_00000000000000000000000000/revisions', JSON.stringify({ prompt: 'x', extra: 1 }), 'application/json')).status).toBe(400);
      const form = new FormData();
      form.append('colour', 'red');
      expect((await post('/v1/jobs', form)).status).toBe(400);
      expect((await fetch(`${service.url}/v1/jobs?owner=someone`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${service.url}/v1/webhooks/deliveries?url=x`, { headers: auth })).status).toBe(400);
    });
  });

  describe('string lengths are bounded', () => {
    it.each([
      ['prompt', 4000, (n: number) => ({ images: [IMAGE], prompt: 'p'.repeat(n) })],
      ['metadata value', 500, (n: number) => ({ images: [IMAGE], metadata: { sku: 'v'.repeat(n) } })],
      ['caption', 2000, (n: number) => ({ images: [IMAGE], options: { text: [{ text: 't'.repeat(n), start_s: 0, end_s: 1 }] } })],
      ['image URL', 2048, (n: number) => ({ images: [`https://shop.example/${'a'.repeat(n - 21)}`] })],
    ] as const)('%s: up to %i characters', async (_name, max, body) => {
      expect((await postJob(service.url, body(max), KEY)).status).toBe(202);
      const over = await postJob(service.url, body(max + 1), KEY);
      expect(over.status).toBe(400);
      expect(await problemOf(over)).toMatchObject({ code: 'validation_failed' });
    });

    it('metadata keys, images and captions are counted', async () => {
      const metadata = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
      expect((await postJob(service.url, { images: [IMAGE], metadata }, KEY)).status).toBe(400);
      expect((await postJob(service.url, { images: Array(51).fill(IMAGE) }, KEY)).status).toBe(400);
      expect((await postJob(service.url, { images: [IMAGE] }, KEY, { 'idempotency-key': 'k'.repeat(256) })).status).toBe(400);
    });
  });

  describe('Content-Type is enforced', () => {
    it.each([
      ['/v1/jobs', 'text/plain', '{"images":["https://shop.example/a.jpg"]}'],
      ['/v1/jobs', 'application/x-www-form-urlencoded', 'images=https://shop.example/a.jpg'],
      ['/v1/jobs', 'application/xml', '<job/>'],
      ['/v1/batches', 'text/csv', 'sku,image_url\n1,https://shop.example/a.jpg\n'],
      ['/v1/jobs/job_00000000000000000000000000/revisions', 'multipart/form-data; boundary=x', '--x--\r\n'],
      ['/v1/uploads', 'application/json', '{}'],
      ['/v1/jobs', undefined, '{"images":["https://shop.example/a.jpg"]}'],
    ])('%s refuses %s', async (path, type, body) => {
      const response = await post(path, body, type);
      expect(response.status).toBe(415);
      expect(await problemOf(response)).toMatchObject({ code: 'unsupported_media_type' });
    });

    it('accepts JSON with a charset', async () => {
      expect((await post('/v1/jobs', JSON.stringify({ images: [IMAGE] }), 'application/json; charset=utf-8')).status).toBe(202);
    });
  });
});

/** Sends a whole raw request and gives back the reply as text once the server closes the connection. */
async function rawExchange(url: string, request: string | Buffer): Promise<string> {
  const client = new RawClient(url);
  client.write(typeof request === 'string' ? request : request.toString('latin1'));
  const closed = await Promise.race([client.closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
  client.destroy();
  if (closed === 'hung') throw new Error(`no reply within 5 s; got: ${client.reply.slice(0, 200)}`);
  return client.reply;
}

const rawPost = (path: string, type: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\nConnection: close\r\n\r\n${body}`;

describe('what the fuzzer found: each answered with a problem now', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false });
  });
  afterAll(async () => service?.close());

  const expectProblem = (reply: string, status: number, code: string) => {
    expect(reply).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(reply).toContain('application/problem+json');
    expect(reply).toContain(`"code":"${code}"`);
  };
  const part = (name: string, filename: string, content: string) => `--b\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n\r\n${content}\r\n`;

  it('a multipart file part cut short no longer hangs the request (400), on /v1/jobs and /v1/uploads', async () => {
    const cut = part('images', 'a.png', '\x89PNG\r\n\x1a\n\0\0\0\rIHDR').slice(0, 90);
    for (const path of ['/v1/jobs', '/v1/uploads']) expectProblem(await rawExchange(service.url, rawPost(path, 'multipart/form-data; boundary=b', cut)), 400, 'bad_request');
  });

  it('an empty file part no longer hangs the request (415)', async () => {
    expectProblem(await rawExchange(service.url, rawPost('/v1/uploads', 'multipart/form-data; boundary=b', `${part('file', 'a.png', '')}--b--\r\n`)), 415, 'unsupported_media_type');
  });

  it('a multipart boundary longer than the parser takes is a 400, not a 500', async () => {
    const boundary = 'x'.repeat(300);
    expectProblem(await rawExchange(service.url, rawPost('/v1/jobs', `multipart/form-data; boundary=${boundary}`, `--${boundary}--\r\n`)), 400, 'bad_request');
  });

  it('a JSON null, or no body at all, for a batch or a revision is a 400, not a 500', async () => {
    for (const path of ['/v1/batches', '/v1/jobs/job_00000000000000000000000000/revisions']) {
      expectProblem(await rawExchange(service.url, rawPost(path, 'application/json', 'null')), 400, 'validation_failed');
      const empty = await fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: 'Bearer dev-key' } });
      expect(empty.status, path).toBe(400);
    }
    expect((await fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { authorization: 'Bearer dev-key' } })).headers.get('content-type')).toContain('application/problem+json');
  });

  it('Expect other than 100-continue, CONNECT, an over-long id and an undecodable path get problems', async () => {
    expectProblem(await rawExchange(service.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something\r\nConnection: close\r\n\r\n'), 417, 'expectation_failed');
    expectProblem(await rawExchange(service.url, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), 405, 'method_not_allowed');
    expectProblem(await rawExchange(service.url, `GET /v1/jobs/${'a'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\nConnection: close\r\n\r\n`), 414, 'uri_too_long');
    expectProblem(await rawExchange(service.url, 'GET /v1/jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\nConnection: close\r\n\r\n'), 400, 'bad_request');
    // and the service still answers
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});

describe('slow clients are cut off (slow-loris)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      worker: false,
      env: { HTTP_HEADERS_TIMEOUT_S: '1', HTTP_REQUEST_TIMEOUT_S: '2', HTTP_KEEP_ALIVE_TIMEOUT_S: '1' },
    });
  });
  afterAll(async () => service?.close());

  it('closes a connection whose headers take longer than HTTP_HEADERS_TIMEOUT_S, with a 408 problem', async () => {
    const client = new RawClient(service.url);
    const sent = client.trickle(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(100)}\r\n\r\n`, 100);
    const closedAfter = await client.closed;
    expect(await sent).toBeLessThan(60);
    expect(closedAfter).toBeGreaterThanOrEqual(1000);
    expect(closedAfter).toBeLessThan(3500);
    expect(client.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(client.reply).toContain('application/problem+json');
    expect(client.reply).toContain('"code":"request_timeout"');
  });

  it('closes a connection whose body takes longer than HTTP_REQUEST_TIMEOUT_S', async () => {
    const client = new RawClient(service.url);
    client.write(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`);
    const sent = client.trickle(`{"images":["${'a'.repeat(300)}`, 100);
    const closedAfter = await client.closed;
    expect(await sent).toBeLessThan(60);
    expect(closedAfter).toBeGreaterThanOrEqual(2000);
    expect(closedAfter).toBeLessThan(4500);
    expect(client.reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after HTTP_KEEP_ALIVE_TIMEOUT_S', async () => {
    const client = new RawClient(service.url);
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAfter = await client.closed;
    expect(client.reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.reply).toMatch(/keep-alive: timeout=1/i);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(3000);
  });

  it('answers malformed HTTP with a problem and closes the connection', async () => {
    const client = new RawClient(service.url);
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    await client.closed;
    expect(client.reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(client.reply).toContain('"code":"bad_request"');
    const huge = new RawClient(service.url);
    huge.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    await huge.closed;
    expect(huge.reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge.reply).toContain('"code":"headers_too_large"');
  });
});
