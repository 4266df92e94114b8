import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * Fuzzing the HTTP API of a running API process (`i2v api`, a child process):
 * random JSON bodies, multipart bodies, headers and URLs, sent as raw bytes.
 * Whatever arrives: never a 5xx, never a process exit, every error an RFC
 * 9457 problem with a `code`, and /healthz still answers afterwards.
 * FUZZ_RUNS sets the cases per property (`npm run fuzz`: a long run).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** Each property's time: generous per case, for the long runs. */
const PROPERTY_TIMEOUT_MS = 60_000 + RUNS * 250;
const KEY = 'fuzz-key-0123456789';
const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));
const JOB_ID = 'job_01jabcdefghjkmnpqrstvwxyz0';
/**
 * 5xx answers that report the service's state, not a reaction to the input:
 * no worker runs beside the fuzzed API, so none has read the balance yet,
 * and the backend is not there.
 */
const STATE_ANSWERS: Record<string, { status: number; code?: string }> = {
  '/v1/credits': { status: 503, code: 'credits_unknown' },
  '/readyz': { status: 503 },
};

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Sends raw bytes and reads one HTTP reply (by Content-Length, chunked framing, or the connection closing). */
function exchange(port: number, request: Buffer, head: boolean, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no complete reply within ${timeoutMs} ms (got ${data.length} bytes)`)), timeoutMs);
    let done = false;
    function finish(error?: Error, reply?: Reply) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    }
    function parse(closed: boolean): void {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return void (closed && finish(new Error(`connection closed without a reply (${data.length} bytes: ${data.toString('latin1').slice(0, 80)})`)));
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
      if (status === 100) {
        data = data.subarray(end + 4);
        return parse(closed);
      }
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = data.subarray(end + 4);
      if (head || status === 204 || status === 304) return finish(undefined, { status, headers, body: '' });
      if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (rest.length >= length) return finish(undefined, { status, headers, body: rest.subarray(0, length).toString('utf8') });
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        if (rest.includes('0\r\n\r\n')) return finish(undefined, { status, headers, body: dechunk(rest) });
      } else if (closed) return finish(undefined, { status, headers, body: rest.toString('utf8') });
      if (closed) finish(new Error(`connection closed mid-reply (status ${status})`));
    }
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      parse(false);
    });
    socket.on('close', () => parse(true));
    socket.on('error', () => {});
    socket.write(request);
  });
}

function dechunk(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** One request as bytes: the request line, headers (with Content-Length for a body), the body. */
function rawRequest(method: string, target: string, headers: [string, string][], body?: Buffer): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

// --- what is sent -----------------------------------------------------------

const png = (() => {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0);
  ihdr.writeUInt32BE(4, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(60))), chunk('IEND', Buffer.alloc(0))]);
})();
const jpegHead = Buffer.from('ffd8ffe000104a4649460001010000010001000000ffc0001108000400040301220002110103110100ffd9', 'hex');

const ids = fc.oneof(
  fc.constant(JOB_ID),
  fc.constantFrom('job_00000000000000000000000000', 'bat_01jabcdefghjkmnpqrstvwxyz0', 'whd_01jabcdefghjkmnpqrstvwxyz0', 'upl_01jabcdefghjkmnpqrstvwxyz0'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

const ROUTES: ((id: string) => [string, string])[] = [
  () => ['POST', '/v1/jobs'],
  () => ['POST', '/v1/batches'],
  () => ['POST', '/v1/uploads'],
  (id) => ['POST', `/v1/jobs/${id}/revisions`],
  (id) => ['POST', `/v1/jobs/${id}/cancel`],
  (id) => ['POST', `/v1/jobs/${id}/retry`],
  (id) => ['POST', `/v1/batches/${id}/cancel`],
  (id) => ['POST', `/v1/webhooks/deliveries/${id}/redeliver`],
  () => ['GET', '/v1/jobs'],
  (id) => ['GET', `/v1/jobs/${id}`],
  (id) => ['GET', `/v1/jobs/${id}/video`],
  (id) => ['GET', `/v1/jobs/${id}/poster`],
  (id) => ['GET', `/v1/batches/${id}`],
  () => ['GET', '/v1/webhooks/deliveries'],
  () => ['GET', '/v1/credits'],
  () => ['GET', '/healthz'],
  () => ['GET', '/openapi.json'],
];
const route = fc.tuple(fc.integer({ min: 0, max: ROUTES.length - 1 }), ids).map(([i, id]) => ROUTES[i]!(id));
const postRoute = fc.tuple(fc.integer({ min: 0, max: 7 }), ids).map(([i, id]) => ROUTES[i]!(id));

const authHeader = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${KEY}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'Basic Zm9vOmJhcg==', `bearer ${KEY}`, `Bearer  ${KEY} extra`) },
);

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 5000 }), fc.constant(null));
const URLS = ['https://shop.example/a.jpg', 'http://127.0.0.1/x.png', 'upload:upl_01jabcdefghjkmnpqrstvwxyz0', 'ftp://x', 'javascript:alert(1)', 'https://[::1]/a.jpg', ''];
const imageSource = fc.oneof(fc.constantFrom(...URLS), fc.webUrl(), fc.string({ maxLength: 80 }));
const caption = fc.record(
  { text: fc.oneof(fc.string({ maxLength: 300 }), anyValue), start_s: fc.oneof(fc.double(), anyValue), end_s: fc.double(), position: fc.oneof(fc.constantFrom('top', 'bottom'), fc.string()), color: fc.string({ maxLength: 9 }) },
  { requiredKeys: [] },
);
const options = fc.record(
  {
    duration_s: fc.oneof(fc.double(), anyValue),
    aspect_ratio: fc.oneof(fc.constantFrom('9:16', '16:9', '1:1'), fc.string()),
    fps: fc.oneof(fc.constantFrom(24, 30, 60), fc.integer()),
    motion: fc.oneof(fc.constantFrom('zoom-in', 'pan-left'), fc.string()),
    fit: fc.string(),
    background: fc.string({ maxLength: 10 }),
    transition: fc.string(),
    text: fc.oneof(fc.array(caption, { maxLength: 25 }), anyValue),
    audio: fc.oneof(fc.record({ url: imageSource, volume: fc.double(), fade_out_s: fc.double() }, { requiredKeys: [] }), anyValue),
  },
  { requiredKeys: [] },
);
/** Bodies close enough to a job's shape to reach every layer of validation. */
const jobLike = fc.record(
  {
    images: fc.oneof(fc.array(imageSource, { maxLength: 55 }), anyValue),
    prompt: fc.oneof(fc.string({ maxLength: 4200 }), anyValue),
    preset: fc.oneof(fc.constantFrom('motion', 'slideshow', 'diffusion'), fc.string()),
    options: fc.oneof(options, anyValue),
    metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 70 }), fc.oneof(fc.string({ maxLength: 600 }), anyValue), { maxKeys: 25 }), anyValue),
    webhook_url: fc.oneof(imageSource, anyValue),
    webhook_events: fc.oneof(fc.array(fc.constantFrom('job.succeeded', 'job.progress', 'nope'), { maxLength: 8 }), anyValue),
    items: fc.oneof(fc.array(fc.record({ images: fc.array(imageSource, { maxLength: 3 }) }, { requiredKeys: [] }), { maxLength: 5 }), anyValue),
    extra: anyValue,
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(
  { weight: 4, arbitrary: jobLike.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[', 'null', '"x"', '{"__proto__":{"a":1}}', '{"constructor":{"prototype":{"a":1}}}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', '\ufeff{}') },
);
const jsonContentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json;', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', '', 'multipart/form-data', 'application/vnd.api+json') },
);

const partName = fc.oneof(fc.constantFrom('images', 'images', 'audio', 'prompt', 'options', 'metadata', 'webhook_url', 'webhook_events', 'preset', 'file'), fc.string({ maxLength: 20 }));
const fileBytes = fc.oneof(
  fc.constant(png),
  fc.constant(jpegHead),
  fc.constant(png.subarray(0, 20)),
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.concat([png, Buffer.alloc(70_000)])),
);
const filename = fc.oneof(fc.constantFrom('a.png', 'a.jpg', '../../etc/passwd', 'a"b.png', 'a\\b.png', 'é.png', ''), fc.string({ maxLength: 300 }));
const fieldValue = fc.oneof(fc.string({ maxLength: 300 }), jsonText, fc.constant('x'.repeat(70_000)), fc.constant(JSON.stringify({ duration_s: 2 })));
const part = fc.oneof(
  fc.record({ kind: fc.constant('file' as const), name: partName, filename, type: fc.oneof(fc.constantFrom('image/png', 'image/jpeg', 'application/octet-stream', 'text/html', ''), fc.string({ maxLength: 30 })), bytes: fileBytes }),
  fc.record({ kind: fc.constant('field' as const), name: partName, value: fieldValue }),
);
const multipart = fc.record({
  boundary: fc.oneof(fc.constant('fuzzboundary'), fc.string({ minLength: 1, maxLength: 70 }).filter((s) => !/[\r\n]/.test(s))),
  declared: fc.constantFrom('same', 'same', 'same', 'other', 'missing', 'quoted'),
  parts: fc.array(part, { maxLength: 8 }),
  ending: fc.constantFrom('proper', 'proper', 'none', 'truncated', 'garbage'),
});

function multipartBytes(form: fc.Arbitrary<unknown> extends never ? never : { boundary: string; declared: string; parts: ({ kind: 'file'; name: string; filename: string; type: string; bytes: Buffer } | { kind: 'field'; name: string; value: string })[]; ending: string }): { body: Buffer; contentType: string } {
  const { boundary } = form;
  const chunks: Buffer[] = [];
  for (const p of form.parts) {
    const disposition = p.kind === 'file' ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    const head = [`--${boundary}`, `Content-Disposition: ${disposition}`, ...(p.kind === 'file' && p.type ? [`Content-Type: ${p.type}`] : [])].join('\r\n');
    chunks.push(Buffer.from(`${head}\r\n\r\n`, 'utf8'), p.kind === 'file' ? p.bytes : Buffer.from(p.value, 'utf8'), Buffer.from('\r\n'));
  }
  if (form.ending === 'proper') chunks.push(Buffer.from(`--${boundary}--\r\n`));
  if (form.ending === 'garbage') chunks.push(Buffer.from(`--${boundary}-x\r\nnonsense`));
  let body = Buffer.concat(chunks);
  if (form.ending === 'truncated') body = body.subarray(0, Math.floor(body.length / 2));
  const contentType = {
    same: `multipart/form-data; boundary=${boundary}`,
    quoted: `multipart/form-data; boundary="${boundary}"`,
    other: 'multipart/form-data; boundary=somethingelse',
    missing: 'multipart/form-data',
  }[form.declared]!;
  return { body, contentType };
}

/** Header names and values as HTTP allows them, and some it does not. */
const tokenChars = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'), minLength: 1, maxLength: 30 });
const headerValue = fc.oneof(fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t'), maxLength: 200 }), fc.string({ unit: 'binary-ascii', maxLength: 50 }));
const knownHeader = fc.oneof(
  fc.tuple(fc.constant('Idempotency-Key'), fc.oneof(fc.string({ maxLength: 300 }).filter((s) => !/[\r\n]/.test(s)), fc.constant('k'))),
  fc.tuple(fc.constant('Prefer'), fc.oneof(fc.constantFrom('wait=0', 'wait=1', 'wait=', 'wait=abc', 'respond-async', 'wait=99999999999999999999'.replace(/9+$/, '0')), headerValue.filter((v) => !/wait=\d*[1-9]/.test(v)))),
  fc.tuple(fc.constant('Range'), fc.oneof(fc.constantFrom('bytes=0-10', 'bytes=-5', 'bytes=9999999999-', 'bytes=5-1', 'bytes=a-b', 'items=0-1', 'bytes=0-1,2-3'), headerValue)),
  fc.tuple(fc.constantFrom('If-None-Match', 'If-Modified-Since', 'Accept', 'Accept-Encoding', 'Origin', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'Cookie', 'Expect', 'Transfer-Encoding', 'Content-Encoding'), headerValue),
);
const extraHeaders = fc.array(fc.oneof(knownHeader, fc.tuple(tokenChars, headerValue)), { maxLength: 6 });

const METHODS = fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT'), tokenChars);
const urlPiece = fc.oneof(
  fc.constantFrom('/v1/jobs', '/v1/jobs/', `/v1/jobs/${JOB_ID}`, `/v1/jobs/${JOB_ID}/video`, '/v1/batches/', '/v1/uploads', '/v1/webhooks/deliveries', '/healthz', '/docs', '/docs/static/../../../etc/passwd', '/openapi.json', '/admin/queues', '/metrics', '/v1/admin/stats', '/', '//', '/..', '/%2e%2e/', '/v1/jobs/%00', '/v1/jobs/%ZZ', '/v1/%E2%82%AC', '*', 'http://evil.example/v1/jobs'),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
  fc.string({ unit: fc.constantFrom(...'/.%?&=#;,+:@!$\'()*[]abcXYZ019_-~'), maxLength: 60 }),
  fc.constant(`/v1/jobs/${'a'.repeat(3000)}`),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?status=queued', '?status=queued&status=failed', '?limit=0', '?limit=100000', '?limit=abc', '?cursor=job_x', '?metadata.sku=1', '?metadata.=x', '?metadata.sku=1&metadata.sku=2', '?__proto__[a]=1', '?job_id=' + JOB_ID, '?a[b][c]=d'),
  fc.dictionary(fc.string({ maxLength: 15 }), fc.string({ maxLength: 30 }), { maxKeys: 4 }).map((d) => `?${new URLSearchParams(d).toString()}`),
);

// --- the run ------------------------------------------------------------------

describe('API fuzz: never a 5xx, never an exit, every error a problem', () => {
  let api: ChildProcess;
  let port = 0;
  let dir = '';
  let output = '';
  let exited: string | undefined;
  const tried: Record<string, number> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-fuzz-'));
    port = await freePort();
    api = spawn(process.execPath, [BIN, 'api'], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: `fuzz-${randomBytes(6).toString('hex')}`,
        STORAGE_DIR: path.join(dir, 'storage'),
        API_KEYS: `fuzz=${KEY}`,
        RATE_LIMIT_PER_MINUTE: '10000000',
        MAX_UPLOAD_MB: '1',
        BACKEND_URL: 'http://127.0.0.1:9',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
    api.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
    api.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    for (let i = 0; ; i++) {
      const up = await exchange(port, rawRequest('GET', '/healthz', []), false, 2000).catch(() => undefined);
      if (up?.status === 200) break;
      if (exited || i > 150) throw new Error(`the API did not start (${exited ?? 'no answer'}):\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (api && api.exitCode === null) {
      const gone = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
    const total = Object.values(tried).reduce((a, b) => a + b, 0);
    console.log(`api fuzz: ${total} requests (${Object.entries(tried).map(([k, v]) => `${k} ${v}`).join(', ')}), ${RUNS} runs per property`);
  });

  /** The invariants of any reply. */
  async function send(kind: string, method: string, target: string, headers: [string, string][], body?: Buffer): Promise<Reply> {
    tried[kind] = (tried[kind] ?? 0) + 1;
    const logged = output.length;
    const reply = await exchange(port, rawRequest(method, target, headers, body), method === 'HEAD');
    const context = `${method} ${target.slice(0, 200)} → ${reply.status} ${reply.body.slice(0, 300)}\n${output.slice(logged).slice(0, 2000)}`;
    expect(exited, context).toBeUndefined();
    expect(reply.status, context).toBeGreaterThanOrEqual(100);
    const state = STATE_ANSWERS[target.split('?')[0]!];
    if (state && reply.status === state.status) {
      if (state.code && method !== 'HEAD') expect(JSON.parse(reply.body).code, context).toBe(state.code);
      return reply;
    }
    expect(reply.status, context).toBeLessThan(500);
    if (reply.status >= 400 && method !== 'HEAD') {
      expect(reply.headers['content-type'], context).toContain('application/problem+json');
      const problem = JSON.parse(reply.body) as { code?: unknown; status?: unknown; title?: unknown };
      expect(typeof problem.code, context).toBe('string');
      expect(problem.status, context).toBe(reply.status);
    }
    return reply;
  }

  async function stillHealthy(): Promise<void> {
    expect(exited).toBeUndefined();
    const health = await exchange(port, rawRequest('GET', '/healthz', []), false);
    expect(health.status).toBe(200);
  }

  it('random JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(postRoute, jsonBody, jsonContentType, authHeader, async ([method, target], body, type, auth) => {
        const headers: [string, string][] = [['Authorization', auth]];
        if (type) headers.push(['Content-Type', type]);
        await send('json', method, target, headers, Buffer.from(body, 'utf8'));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    await stillHealthy();
  }, PROPERTY_TIMEOUT_MS);

  it('random multipart bodies: wrong part names, duplicates, missing boundaries, huge values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/jobs', '/v1/uploads', '/v1/batches'), multipart, authHeader, async (target, form, auth) => {
        const { body, contentType } = multipartBytes(form as never);
        await send('multipart', 'POST', target, [['Authorization', auth], ['Content-Type', contentType]], body);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    await stillHealthy();
  }, PROPERTY_TIMEOUT_MS);

  it('random headers', async () => {
    await fc.assert(
      fc.asyncProperty(route, extraHeaders, authHeader, fc.option(jsonBody, { nil: undefined }), async ([method, target], headers, auth, body) => {
        const all: [string, string][] = [['Authorization', auth], ...headers.filter(([name]) => !/^(content-length|host|connection)$/i.test(name))];
        if (body !== undefined && method === 'POST' && !all.some(([n]) => /^content-type$/i.test(n))) all.push(['Content-Type', 'application/json']);
        await send('headers', method, target, all, method === 'POST' && body !== undefined ? Buffer.from(body) : undefined);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    await stillHealthy();
  }, PROPERTY_TIMEOUT_MS);

  it('random URLs and methods', async () => {
    await fc.assert(
      fc.asyncProperty(METHODS, urlPiece, fc.array(urlPiece, { maxLength: 2 }), query, authHeader, async (method, first, more, q, auth) => {
        const target = `${first}${more.join('')}${q}`.slice(0, 12_000) || '/';
        await send('urls', method, target, [['Authorization', auth]]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    await stillHealthy();
  }, PROPERTY_TIMEOUT_MS);
});
