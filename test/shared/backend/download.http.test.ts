import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BackendClient } from '../../../src/shared/backend/client.ts';
import { BackendError } from '../../../src/shared/errors/backend-error.ts';
import { ReplayServer, sendJson, sendRaw, writeChunks } from './replay-server.ts';
import { failure } from './backend-failure.ts';

const TOKEN = 'nmv_usr_download_token';
const skill = { source: 'pixverse-ai-image-to-video', version: '1.0.0', platform: 'cursor' } as const;
const MP4 = Buffer.concat([Buffer.from('\x00\x00\x00\x18ftypmp42', 'latin1'), Buffer.alloc(50_000, 7)]);

let backend: ReplayServer;
let cdn: ReplayServer;
let client: BackendClient;
let dir: string;

beforeAll(async () => {
  backend = await ReplayServer.start();
  cdn = await ReplayServer.start();
  client = new BackendClient({ baseUrl: backend.url, skill, token: TOKEN });
  dir = await mkdtemp(join(tmpdir(), 'i2v-backend-download-'));
});

afterAll(async () => {
  await client.close();
  await backend.close();
  await cdn.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  backend.reset();
  cdn.reset();
});


describe('downloadToFile', () => {
  it('streams a render output to disk, without credentials for a CDN', async () => {
    cdn.on('GET /out/render_1.mp4', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(MP4.length) });
      await writeChunks(res, [MP4.subarray(0, 1000), MP4.subarray(1000)]);
      res.end();
    });
    const dest = join(dir, 'cdn.mp4');
    expect(await client.downloadToFile(`${cdn.url}/out/render_1.mp4`, dest, { maxBytes: 1_000_000 })).toEqual({
      bytes: MP4.length,
      contentType: 'video/mp4',
    });
    expect((await readFile(dest)).equals(MP4)).toBe(true);
    expect(cdn.last().headers.authorization).toBeUndefined();
    expect(cdn.last().headers['x-skill-source']).toBeUndefined();
  });

  it('refuses a file over maxBytes and leaves nothing behind', async () => {
    cdn.on('GET /big.mp4', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      await writeChunks(res, [MP4, MP4]);
      res.end();
    });
    cdn.on('GET /declared.mp4', (_req, res) => sendRaw(res, 200, MP4, { 'content-type': 'video/mp4' }));
    const dest = join(dir, 'big.mp4');
    expect(await failure(client.downloadToFile(`${cdn.url}/big.mp4`, dest, { maxBytes: MP4.length }))).toMatchObject({
      code: 'bad_reply',
      detail: { endpoint: 'download' },
    });
    expect(await failure(client.downloadToFile(`${cdn.url}/declared.mp4`, dest, { maxBytes: 100 }))).toMatchObject({ code: 'bad_reply' });
    expect((await readdir(dir)).filter((name) => name.startsWith('big.mp4'))).toEqual([]);
  });

  it('maps a missing file to its HTTP status', async () => {
    expect(await failure(client.downloadToFile(`${cdn.url}/nope.mp4`, join(dir, 'nope.mp4'), { maxBytes: 100 }))).toMatchObject({
      code: 404,
      detail: { endpoint: 'download', httpStatus: 404 },
    });
  });
});

describe('downloadRender', () => {
  it('sends credentials to the backend and follows its redirect to the CDN', async () => {
    backend.on('GET /api/render/proxy/render_2/download', (_req, res) => {
      res.writeHead(302, { location: `${cdn.url}/out/render_2.mp4`, 'content-length': '0' });
      res.end();
    });
    cdn.on('GET /out/render_2.mp4', (_req, res) => sendRaw(res, 200, MP4, { 'content-type': 'video/mp4' }));
    const dest = join(dir, 'redirected.mp4');
    await client.downloadRender('render_2', dest, { maxBytes: 1_000_000 });
    expect((await readFile(dest)).equals(MP4)).toBe(true);
    expect(backend.last().headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'x-skill-platform': 'cursor' });
    expect(cdn.last().headers.authorization).toBeUndefined();
  });

  it('follows a JSON reply that names the file', async () => {
    backend.on('GET /api/render/proxy/render_3/download', (_req, res) =>
      sendJson(res, 200, { success: true, data: { url: `${cdn.url}/out/render_3.mp4` } }),
    );
    cdn.on('GET /out/render_3.mp4', (_req, res) => sendRaw(res, 200, MP4, { 'content-type': 'video/mp4' }));
    const dest = join(dir, 'linked.mp4');
    expect((await client.downloadRender('render_3', dest, { maxBytes: 1_000_000 })).bytes).toBe(MP4.length);
  });

  it('streams a file the backend serves itself', async () => {
    backend.on('GET /api/render/proxy/render_4/download', (_req, res) => sendRaw(res, 200, MP4, { 'content-type': 'video/mp4' }));
    const dest = join(dir, 'direct.mp4');
    await client.downloadRender('render_4', dest, { maxBytes: 1_000_000 });
    expect((await readFile(dest)).equals(MP4)).toBe(true);
  });

  it('reports a render the backend does not know', async () => {
    backend.on('GET /api/render/proxy/render_5/download', (_req, res) => sendJson(res, 404, { success: false, error: 'render not found' }));
    expect(await failure(client.downloadRender('render_5', join(dir, 'x.mp4'), { maxBytes: 100 }))).toMatchObject({
      code: 404,
      message: 'download: render not found',
    });
  });

  it('ends as aborted when the signal fires mid-body', async () => {
    cdn.on('GET /slow.mp4', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      await writeChunks(res, [MP4.subarray(0, 100)]);
    });
    const controller = new AbortController();
    const pending = failure(client.downloadToFile(`${cdn.url}/slow.mp4`, join(dir, 'slow.mp4'), { maxBytes: 1_000_000, signal: controller.signal }));
    while (cdn.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted', detail: { endpoint: 'download' } });
    expect((await readdir(dir)).filter((name) => name.startsWith('slow.mp4'))).toEqual([]);
  });
});
