import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BackendClient } from '../../../src/shared/backend/client.ts';
import { skillForPreset } from '../../../src/shared/backend/attribution.ts';
import { BackendError } from '../../../src/shared/errors/backend-error.ts';
import { ReplayServer, sendJson, sendRaw } from './replay-server.ts';
import { failure } from './backend-failure.ts';

const TOKEN = 'nmv_usr_secret_token_123';
const skill = skillForPreset('motion', '1.2.3', 'clawhub');

let server: ReplayServer;
let client: BackendClient;
let dir: string;

beforeAll(async () => {
  server = await ReplayServer.start();
  client = new BackendClient({ baseUrl: server.url, skill, token: TOKEN });
  dir = await mkdtemp(join(tmpdir(), 'i2v-backend-client-'));
});

afterAll(async () => {
  await client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => server.reset());


describe('requests', () => {
  it('sends the token and the attribution headers', async () => {
    server.on('POST /api/tasks/me/with-session/nemo_agent', (_req, res) =>
      sendJson(res, 200, { code: 0, data: { task_id: 'task_1', session_id: '5529798706024415232', user_id: 'anon_1' } }),
    );
    expect(await client.createSession()).toEqual({ sessionId: '5529798706024415232', taskId: 'task_1', userId: 'anon_1' });
    const request = server.last();
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'x-skill-source': 'image-to-video-ai-movement',
      'x-skill-version': '1.2.3',
      'x-skill-platform': 'clawhub',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request.body.toString())).toEqual({ task_name: 'project', language: 'en' });
  });

  it('asks for an anonymous token with X-Client-Id, no body and no old token', async () => {
    server.on('POST /api/auth/anonymous-token', (_req, res) =>
      sendJson(res, 200, { code: 0, data: { token: 'nmv_usr_new', user_id: 'anon_2', expires_at: '2030-01-01T00:00:00Z', credits: 100 } }),
    );
    const clientId = '6f1c2b1e-1111-4222-8333-944455556666';
    expect(await client.anonymousToken(clientId)).toEqual({
      token: 'nmv_usr_new',
      userId: 'anon_2',
      expiresAt: '2030-01-01T00:00:00Z',
      credits: 100,
    });
    const request = server.last();
    expect(request.headers['x-client-id']).toBe(clientId);
    expect(request.headers['x-skill-source']).toBe('image-to-video-ai-movement');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body.length).toBe(0);
  });

  it('withToken changes the token and keeps the attribution', async () => {
    server.on('GET /api/credits/balance/simple', (_req, res) => sendJson(res, 200, { code: 0, data: { available: 90, frozen: 10, total: 100 } }));
    const renewed = client.withToken('nmv_usr_renewed');
    expect(await renewed.creditsBalance()).toEqual({ available: 90, frozen: 10, total: 100 });
    expect(server.last().headers).toMatchObject({ authorization: 'Bearer nmv_usr_renewed', 'x-skill-platform': 'clawhub' });
    expect(new BackendClient({ baseUrl: server.url, skill }).hasToken).toBe(false);
  });

  it('uploads files as repeated "files" parts with their bytes intact', async () => {
    server.on('POST /api/upload-video/nemo_agent/me/55', (_req, res) =>
      sendJson(res, 200, {
        code: 0,
        data: {
          files: [
            { filename: 'a.png', file_type: 'image', cdn_url: 'https://cdn.example/a.png', width: 2, height: 2 },
            { filename: 'b.jpg', file_type: 'image', cdn_url: 'https://cdn.example/b.jpg' },
          ],
          session_state_applied: true,
        },
      }),
    );
    const first = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const second = Buffer.from('\xff\xd8\xff\xe0 not really a jpeg \r\n--boundary-lookalike\r\n', 'latin1');
    await writeFile(join(dir, 'a.png'), first);
    await writeFile(join(dir, 'b.jpg'), second);

    const files = await client.uploadFiles('55', [
      { path: join(dir, 'a.png'), filename: 'a.png' },
      { path: join(dir, 'b.jpg'), filename: 'b.jpg', contentType: 'image/jpeg' },
    ]);
    expect(files.map((f) => f.cdnUrl)).toEqual(['https://cdn.example/a.png', 'https://cdn.example/b.jpg']);

    const request = server.last();
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const form = await new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
    const parts = form.getAll('files') as File[];
    expect(parts.map((p) => [p.name, p.type])).toEqual([
      ['a.png', 'image/png'],
      ['b.jpg', 'image/jpeg'],
    ]);
    expect(Buffer.from(await parts[0]!.arrayBuffer()).equals(first)).toBe(true);
    expect(Buffer.from(await parts[1]!.arrayBuffer()).equals(second)).toBe(true);
  });

  it('uploads URLs as JSON', async () => {
    server.on('POST /api/upload-video/nemo_agent/me/55', (_req, res) =>
      sendJson(res, 200, { code: 0, data: { files: [{ filename: 'x.jpg', file_type: 'image', cdn_url: 'https://cdn.example/x.jpg' }] } }),
    );
    await client.uploadUrls('55', ['https://shop.example/x.jpg']);
    expect(JSON.parse(server.last().body.toString())).toEqual({ urls: ['https://shop.example/x.jpg'], source_type: 'url' });
  });

  it('reads the session state', async () => {
    server.on('GET /api/state/nemo_agent/me/55/latest', (_req, res) =>
      sendJson(res, 200, { code: 0, data: { session_id: '55', task_id: 't', state: { draft: { t: [], d: 0 }, video_infos: [] } } }),
    );
    expect((await client.getState('55')).state.draft).toEqual({ t: [], d: 0 });
  });

  it('starts, polls and cancels a render with the protocol\'s keys', async () => {
    server.on('POST /api/render/proxy/lambda', (_req, res) =>
      sendJson(res, 200, { success: true, data: { id: 'render_1', status: 'pending', progress: 5 } }),
    );
    server.on('GET /api/render/proxy/lambda/render_1', (_req, res) =>
      sendJson(res, 200, { taskId: 'render_1', status: 'completed', progress: 100, output: { url: 'https://cdn.example/o.mp4', duration: 3, size: 10 } }),
    );
    server.on('POST /api/render/proxy/lambda/render_1/cancel', (_req, res) => sendJson(res, 200, { success: true }));

    const draft = { t: [{ tt: 0, sg: [] }], d: 1000, m: { width: 16, height: 16 } };
    expect(await client.startRender({ id: 'render_1', sessionId: '55', draft, output: { format: 'mp4', quality: 'high' } })).toEqual({
      id: 'render_1',
      status: 'pending',
      progress: 5,
    });
    expect(JSON.parse(server.last().body.toString())).toEqual({
      id: 'render_1',
      sessionId: '55',
      draft,
      output: { format: 'mp4', quality: 'high' },
    });
    expect(await client.getRender('render_1')).toMatchObject({ status: 'completed', outputUrl: 'https://cdn.example/o.mp4', sizeBytes: 10 });
    await client.cancelRender('render_1');
    expect(server.last().method).toBe('POST');
  });
});

describe('errors', () => {
  it('turns a code≠0 envelope with HTTP 200 into its code', async () => {
    server.on('GET /api/credits/balance/simple', (_req, res) => sendJson(res, 200, { code: 1001, message: 'token expired' }));
    const error = await failure(client.creditsBalance());
    expect(error).toMatchObject({ code: 1001, detail: { endpoint: 'credits', httpStatus: 200 } });
  });

  it('turns a 4xx with an envelope into the envelope\'s code', async () => {
    server.on('POST /api/render/proxy/lambda', (_req, res) => sendJson(res, 402, { code: 2001, message: 'out of credits' }));
    expect(await failure(client.startRender({ id: 'render_2', sessionId: '55', draft: {} }))).toMatchObject({
      code: 2001,
      detail: { endpoint: 'render_start', httpStatus: 402 },
    });
  });

  it('surfaces Retry-After on a 429', async () => {
    server.on('POST /api/auth/anonymous-token', (_req, res) => sendJson(res, 429, { detail: 'rate limited' }, { 'retry-after': '12' }));
    expect(await failure(client.anonymousToken('id'))).toMatchObject({ code: 429, detail: { retryAfterS: 12, httpStatus: 429 } });
  });

  it('gives a 503 code 503', async () => {
    server.on('GET /api/render/proxy/lambda/render_3', (_req, res) => sendRaw(res, 503, '<html>upstream busy</html>', { 'content-type': 'text/html' }));
    expect(await failure(client.getRender('render_3'))).toMatchObject({ code: 503, detail: { endpoint: 'render_poll', httpStatus: 503 } });
  });

  it('turns success:false into an error', async () => {
    server.on('GET /api/render/proxy/lambda/render_4', (_req, res) => sendJson(res, 200, { success: false, error: 'render not found' }));
    expect(await failure(client.getRender('render_4'))).toMatchObject({ code: 400, message: 'render_poll: render not found' });
  });

  it('calls an unparseable reply bad_reply', async () => {
    server.on('GET /api/state/nemo_agent/me/55/latest', (_req, res) => sendRaw(res, 200, 'hello', { 'content-type': 'text/plain' }));
    expect(await failure(client.getState('55'))).toMatchObject({ code: 'bad_reply', detail: { endpoint: 'state' } });
  });

  it('calls a refused connection network', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const offline = new BackendClient({ baseUrl: `http://127.0.0.1:${closedPort}`, skill, token: TOKEN });
    try {
      expect(await failure(offline.creditsBalance())).toMatchObject({ code: 'network', detail: { endpoint: 'credits' } });
    } finally {
      await offline.close();
    }
  });

  it('calls a reply that never comes timeout, and an aborted call aborted', async () => {
    server.on('GET /api/credits/balance/simple', () => undefined);
    const impatient = new BackendClient({ baseUrl: server.url, skill, token: TOKEN, timeouts: { idleMs: 100 } });
    try {
      expect(await failure(impatient.creditsBalance())).toMatchObject({ code: 'timeout', detail: { endpoint: 'credits' } });
    } finally {
      await impatient.close();
    }
    const controller = new AbortController();
    const call = client.creditsBalance({ signal: controller.signal });
    controller.abort();
    expect(await failure(call)).toMatchObject({ code: 'aborted', detail: { endpoint: 'credits' } });
  });

  it('never puts the token in an error', async () => {
    server.on('GET /api/credits/balance/simple', (_req, res) => sendJson(res, 401, { detail: 'bad credentials' }));
    const error = await failure(client.creditsBalance());
    expect(error.code).toBe(1001);
    expect(`${error.message} ${JSON.stringify(error.detail)} ${error.stack}`).not.toContain(TOKEN);
  });
});
