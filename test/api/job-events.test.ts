import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../src/api/server.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { startTestEngine, type TestEngine } from '../engine/protocol-client.ts';
import { makeTestImage } from '../helpers/media.ts';
import { testConfig, waitForJob } from '../helpers/service.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));
const auth = { authorization: 'Bearer dev-key' };

interface SseRead {
  events: Record<string, any>[];
  raw: string;
}

/** Reads a job's event stream to its end. */
async function readEvents(url: string): Promise<SseRead> {
  const response = await fetch(url, { headers: auth });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const raw = await response.text();
  const events = raw
    .split('\n\n')
    .map((frame) => frame.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => Boolean(line))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, any>);
  return { events, raw };
}

describe('progress events and cancellation, with the worker in another process', () => {
  let dir: string;
  let engine: TestEngine;
  let api: RunningApi;
  let worker: ChildProcess;
  let photo: Blob;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-events-'));
    engine = await startTestEngine({ agentDelayMs: 1500, heartbeatMs: 100 });
    const config = testConfig(dir, { SSE_KEEPALIVE_S: '0.2' });
    api = await startApi(config, createLogger({ level: 'silent' }), engine.url);
    worker = spawn(process.execPath, [BIN, 'worker'], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: config.REDIS_URL,
        REDIS_PREFIX: config.REDIS_PREFIX,
        STORAGE_DIR: config.STORAGE_DIR,
        BACKEND_URL: engine.url,
        BACKEND_POLL_INTERVAL_MS: '100',
        LOG_LEVEL: 'silent',
        // each test sends the same photo and options: every job renders
        RENDER_CACHE: String(config.RENDER_CACHE),
      },
      stdio: 'ignore',
    });
    photo = new Blob([await readFile(await makeTestImage(path.join(dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await new Promise((resolve) => worker?.once('exit', resolve));
    await api?.close();
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function submit(prefer?: string): Promise<Response> {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    return fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { ...auth, ...(prefer ? { prefer } : {}) }, body: form });
  }

  it('streams each stage and progress change as a job snapshot, keeps the connection alive, and ends with the job', async () => {
    const created = await submit();
    const { id } = (await created.json()) as { id: string };
    const { events, raw } = await readEvents(`${api.url}/v1/jobs/${id}/events`);
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events.every((e) => e.id === id)).toBe(true);
    expect(events.at(-1)).toMatchObject({ status: 'succeeded', stage: 'done', progress: 100 });
    const order = ['queued', 'connecting', 'uploading', 'instructing', 'rendering', 'storing', 'done'];
    const stages = events.map((e) => order.indexOf(e.stage));
    expect(stages).toEqual([...stages].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.stage))).toContain('instructing');
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(raw).toContain(': keep-alive');
  });

  it('answers 202 when Prefer: wait runs out before the job ends', async () => {
    const started = Date.now();
    const response = await submit('wait=1');
    expect(response.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await waitForJob(api.url, ((await response.json()) as { id: string }).id);
  });

  it('cancels a running job: its worker stops and the job stays canceled', async () => {
    const { id } = (await (await submit()).json()) as { id: string };
    for (let stage = ''; stage !== 'instructing'; ) {
      stage = ((await (await fetch(`${api.url}/v1/jobs/${id}`, { headers: auth })).json()) as { stage: string }).stage;
      await new Promise((r) => setTimeout(r, 50));
    }
    const canceled = await fetch(`${api.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: auth });
    expect(canceled.status).toBe(200);
    expect(await canceled.json()).toMatchObject({ status: 'canceled' });
    await new Promise((r) => setTimeout(r, 2500));
    const after = (await (await fetch(`${api.url}/v1/jobs/${id}`, { headers: auth })).json()) as Record<string, any>;
    expect(after).toMatchObject({ status: 'canceled', result: null });
    expect(['rendering', 'storing', 'done']).not.toContain(after.stage);

    const next = await waitForJob(api.url, ((await (await submit()).json()) as { id: string }).id);
    expect(next.status).toBe('succeeded');
  });
});
