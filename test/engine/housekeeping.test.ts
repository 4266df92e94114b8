import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dropEngineKeys, freePort, spawnEngine, stopEngine, type EngineProcess } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { ProtocolClient, smallDraft } from './protocol-client.ts';

interface Stats {
  disk: { used_bytes: number; max_bytes: number; files: number };
  freed: { sessions: number; renders: number; leftovers: number };
  renders_held: number;
  sessions: { id: string }[];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

/** Reads `read` until `done` holds (what the engine frees, it frees in the background). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the engine process frees what it holds', () => {
  let dir: string;
  let photo: string;
  let engine: EngineProcess | undefined;
  /** a second engine of the same backend, for the test that needs two */
  let twin: EngineProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-housekeeping-'));
    photo = await makeTestImage(path.join(dir, 'p.jpg'), 320, 240);
    return () => rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (twin) await stopEngine(twin);
    twin = undefined;
    if (engine) {
      await stopEngine(engine);
      await dropEngineKeys(engine.redisPrefix);
    }
    engine = undefined;
  });

  const stats = async (): Promise<Stats> => ((await (await fetch(`${engine?.url}/_engine/stats`)).json()) as { data: Stats }).data;
  const start = async (dataDir: string, env: Record<string, string>) => (engine = await spawnEngine(await freePort(), dataDir, env));

  /** A fresh token and session with the photo uploaded; returns the client and the upload's cdn_url. */
  async function sessionWithPhoto(client = new ProtocolClient(engine?.url as string)): Promise<{ client: ProtocolClient; src: string }> {
    if (!client.token) await client.anonymousToken();
    await client.createSession();
    const uploaded = await client.upload([{ path: photo }]);
    expect(uploaded.body.code, JSON.stringify(uploaded.body)).toBe(0);
    return { client, src: uploaded.body.data.files[0].cdn_url };
  }

  it('expires sessions, renders, uploads, outputs and a previous process\'s files after ENGINE_TTL_S', async () => {
    const dataDir = path.join(dir, 'ttl');
    // files no record knows: a killed engine's half-written ones, or records lost with Redis
    await mkdir(path.join(dataDir, 'renders'), { recursive: true });
    await mkdir(path.join(dataDir, 'uploads', '123'), { recursive: true });
    await writeFile(path.join(dataDir, 'renders', `${randomUUID()}.mp4`), 'old output');
    await writeFile(path.join(dataDir, 'uploads', '123', `${randomUUID()}.jpg`), 'old upload');
    await start(dataDir, { ENGINE_TTL_S: '1' });

    const { client, src } = await sessionWithPhoto();
    expect((await client.startRender('render_ttl', smallDraft(src, { durationMs: 1000 }))).body.success).toBe(true);
    const done = await client.waitForRender('render_ttl');
    expect(done.data.status).toBe('completed');
    const output = done.data.outputUrl as string;

    const after = await until(stats, (s) => s.sessions.length === 0 && s.renders_held === 0 && s.disk.files === 0);
    expect(after.disk.used_bytes).toBe(0);
    expect(after.freed).toEqual({ sessions: 1, renders: 1, leftovers: 2 });
    expect(await filesUnder(path.join(dataDir, 'uploads'))).toEqual([]);
    expect(await filesUnder(path.join(dataDir, 'renders'))).toEqual([]);
    expect((await client.poll('render_ttl')).status).toBe(404);
    expect((await client.state()).body.code).toBe(1002);
    expect((await fetch(output)).status).toBe(404);
    expect((await fetch(src)).status).toBe(404);
  });

  it('keeps its disk under ENGINE_MAX_DISK_MB: to make room for an upload, the least recently used session goes first', async () => {
    const bytes = (await stat(photo)).size;
    await start(path.join(dir, 'bound'), { ENGINE_MAX_DISK_MB: String((2.5 * bytes) / (1024 * 1024)) });
    const first = await sessionWithPhoto();
    const firstSession = first.client.sessionId;
    await sessionWithPhoto(first.client);
    const before = await stats();
    expect(before.disk).toEqual({ used_bytes: 2 * bytes, max_bytes: Math.floor(2.5 * bytes), files: 2 });

    // a third upload needs room: the oldest session is freed for it
    const third = await sessionWithPhoto(first.client);
    const after = await stats();
    expect(after.disk.used_bytes).toBe(2 * bytes);
    expect(after.disk.used_bytes).toBeLessThanOrEqual(after.disk.max_bytes);
    expect(after.freed.sessions).toBe(1);
    expect(after.sessions.map((s) => s.id)).not.toContain(firstSession);
    expect((await first.client.state(firstSession)).body.code).toBe(1002);
    expect((await third.client.state()).body.code).toBe(0);
  });

  it('refuses an upload (503) while every byte is held by a running render, and takes it once the render ended', async () => {
    const bytes = (await stat(photo)).size;
    await start(path.join(dir, 'full'), { ENGINE_MAX_DISK_MB: String((1.5 * bytes) / (1024 * 1024)) });
    const { client, src } = await sessionWithPhoto();
    await fetch(`${engine?.url}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'render-delay', seconds: 60 }) });
    expect((await client.startRender('render_holding', smallDraft(src))).body.success).toBe(true);

    await client.createSession();
    const refused = await client.upload([{ path: photo }]);
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/disk is full/);

    expect((await client.call('POST', '/api/render/proxy/lambda/render_holding/cancel')).status).toBe(200);
    const taken = await client.upload([{ path: photo }]);
    expect(taken.body.code).toBe(0);
    expect((await stats()).disk.used_bytes).toBe(bytes);
  });

  it('with two engines sweeping the same folder, frees each expired session once, and not while a render of it waits', async () => {
    const dataDir = path.join(dir, 'two');
    await start(dataDir, { ENGINE_TTL_S: '1' });
    twin = await spawnEngine(await freePort(), dataDir, { ENGINE_TTL_S: '1', ENGINE_REDIS_PREFIX: engine!.redisPrefix });
    const idle = await sessionWithPhoto();
    const busy = await sessionWithPhoto(new ProtocolClient(twin.url));
    await fetch(`${engine?.url}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'render-delay', seconds: 60 }) });
    expect((await busy.client.startRender('render_waiting', smallDraft(busy.src))).body.success).toBe(true);

    // the idle session expires (freed by one of the two); the busy one outlives its TTL while its render waits
    const afterIdle = await until(stats, (s) => s.freed.sessions === 1);
    expect(afterIdle.sessions.map((s) => s.id)).toEqual([busy.client.sessionId]);
    expect((await idle.client.state()).body.code).toBe(1002);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await stats()).sessions.map((s) => s.id)).toEqual([busy.client.sessionId]);
    expect(await filesUnder(path.join(dataDir, 'uploads', busy.client.sessionId))).toHaveLength(1);

    expect((await busy.client.call('POST', '/api/render/proxy/lambda/render_waiting/cancel')).status).toBe(200);
    const after = await until(stats, (s) => s.sessions.length === 0 && s.renders_held === 0);
    expect(after.freed).toEqual({ sessions: 2, renders: 1, leftovers: 0 });
    expect(after.disk).toEqual({ used_bytes: 0, max_bytes: expect.any(Number), files: 0 });
    expect(await filesUnder(path.join(dataDir, 'uploads'))).toEqual([]);
  });
});
