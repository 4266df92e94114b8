import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderIdFor } from '../../src/workers/stages/render.ts';
import { dropEngineKeys, freePort, spawnEngine, stopEngine, type EngineProcess } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';

interface EngineStats {
  sessions: { id: string; instructions: number; renders: number }[];
}

describe('the engine killed and restarted, and the engine losing its sessions, under a rendering job', () => {
  let service: TestService;
  let engine: EngineProcess;
  let worker: ChildProcess;
  let port: number;
  let engineDir: string;
  let photo: Blob;

  beforeAll(async () => {
    port = await freePort();
    const engineUrl = `http://127.0.0.1:${port}`;
    // API in this process; the engine and the worker are processes of their own
    service = await startTestService({ worker: false, env: { BACKEND_URL: engineUrl } });
    engineDir = path.join(service.dir, 'engine');
    engine = await spawnEngine(port, engineDir);
    worker = spawnWorker(service.config, engineUrl);
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    if (engine) {
      await stopEngine(engine, 'SIGKILL');
      await dropEngineKeys(engine.redisPrefix);
    }
    await service?.close();
  });

  const engineCall = async (method: string, route: string, body?: unknown): Promise<any> => {
    const init = body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    return ((await (await fetch(`${engine.url}${route}`, init)).json()) as { data: unknown }).data;
  };

  async function submit(durationS: number): Promise<string> {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: durationS, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    return ((await created.json()) as { id: string }).id;
  }

  async function until(done: () => Promise<boolean>): Promise<void> {
    while (!(await done())) await new Promise((r) => setTimeout(r, 20));
  }

  const sessionOf = async (sessionId: string | undefined) => ((await engineCall('GET', '/_engine/stats')) as EngineStats).sessions.find((s) => s.id === sessionId);

  it('continues the same session and render after a restart: the render is taken over, nothing is uploaded, instructed or exported again', async () => {
    const id = await submit(6);
    // killed while the render runs (its state and render queue are in Redis, its files on the folder)
    await until(async () => ((await engineCall('GET', '/_engine/renders')) as { renders: { status: string }[] }).renders.some((r) => r.status === 'processing'));
    const before = await service.records.get(id);
    await stopEngine(engine, 'SIGKILL');
    engine = await spawnEngine(port, engineDir, { ENGINE_REDIS_PREFIX: engine.redisPrefix });

    const job = await waitForJob(service.url, id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.duration_s).toBeCloseTo(6, 0);
    const after = await service.records.get(id);
    expect(after?.checkpoint.sessionId).toBe(before?.checkpoint.sessionId);
    expect(after?.checkpoint.renderId).toBe(renderIdFor(id));
    expect(after?.checkpoint.rendersLost).toBeUndefined();
    expect(await sessionOf(after?.checkpoint.sessionId)).toEqual({ id: after?.checkpoint.sessionId, user_id: expect.any(String), instructions: 1, renders: 1 });
  });

  it('re-exports the saved draft under a second render id in a new session, without a second instruction, when the engine lost its sessions', async () => {
    await engineCall('POST', '/_engine/faults', { kind: 'render-delay', seconds: 60 });
    const id = await submit(1);
    await until(async () => Boolean((await service.records.get(id))?.checkpoint.renderStartedAt));
    const before = await service.records.get(id);

    // a backend that lost its state: tokens, sessions and renders
    await engineCall('POST', '/_engine/faults', [{ kind: 'forget-renders' }, { kind: 'forget-sessions' }, { kind: 'expire-tokens' }]);

    const job = await waitForJob(service.url, id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.duration_s).toBeCloseTo(1, 0);
    const after = await service.records.get(id);
    expect(before?.checkpoint.renderId).toBe(renderIdFor(id));
    expect(after?.checkpoint.renderId).toBe(renderIdFor(id, 2));
    expect(after?.checkpoint.sessionId).not.toBe(before?.checkpoint.sessionId);
    // the engine saw one new session: files uploaded again, the saved draft rendered, no instruction
    const stats = (await engineCall('GET', '/_engine/stats')) as EngineStats;
    expect(stats.sessions).toEqual([{ id: after?.checkpoint.sessionId, user_id: expect.any(String), instructions: 0, renders: 1 }]);
    expect(after?.checkpoint.instruction?.text).toBe(before?.checkpoint.instruction?.text);
  });
});
