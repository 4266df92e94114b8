import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/shared/infra/queue-set.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';
import { Receiver } from '../webhooks/receiver.ts';
import { parseExposition, valueOf, type Exposition } from './prometheus-text.ts';

const ADMIN_KEY = 'admin-key-for-the-metrics-test';
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const STEPS = ['connect', 'upload', 'instruct', 'render', 'poll', 'store'];
const REQUIRED = [
  'i2v_http_requests_total',
  'i2v_http_request_duration_seconds',
  'i2v_jobs_total',
  'i2v_stage_duration_seconds',
  'i2v_queue_jobs',
  'i2v_backend_requests_total',
  'i2v_webhook_deliveries_total',
  'i2v_render_seconds',
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_heap_size_used_bytes',
];

async function scrape(url: string, authorization = `Bearer ${ADMIN_KEY}`): Promise<Exposition> {
  const response = await fetch(url, { headers: { authorization } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('metrics of the API and an in-process worker', () => {
  let service: TestService;
  let receiver: Receiver;
  let imageUrl: string;

  beforeAll(async () => {
    service = await startTestService({ engine: { noTextRate: 0 }, env: { ADMIN_KEY, METRICS_PORT: '0' } });
    receiver = await new Receiver().start();
    imageUrl = receiver.serve('/photo.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
  });
  afterAll(async () => {
    receiver?.close();
    await service?.close();
  });

  it('GET /metrics needs the admin key as a Bearer token', async () => {
    for (const authorization of [undefined, 'Bearer dev-key', 'Bearer not-the-admin-key-0000000']) {
      const response = await fetch(`${service.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="i2v admin"');
      expect(((await response.json()) as { code: string }).code).toBe('unauthorized');
    }
  });

  it('serves every metric in the Prometheus text format, the process metrics included', async () => {
    const exposition = await scrape(`${service.url}/metrics`);
    for (const name of REQUIRED) expect(exposition.types.has(name), name).toBe(true);
    expect(exposition.types.get('i2v_jobs_total')).toBe('counter');
    expect(exposition.types.get('i2v_stage_duration_seconds')).toBe('histogram');
    expect(exposition.types.get('i2v_queue_jobs')).toBe('gauge');
    expect(valueOf(exposition, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    for (const queue of QUEUE_NAMES) {
      expect(exposition.samples.some((s) => s.name === 'i2v_queue_jobs' && s.labels.queue === queue), queue).toBe(true);
    }
  });

  it('counters move when a job runs: jobs, stages, render, backend calls, requests, webhooks, queue gauges', async () => {
    const before = await scrape(`${service.url}/metrics`);
    const hook = receiver.answer('/hook', () => ({ status: 200 }));
    const created = await postJob(service.url, { images: [imageUrl], options: SMALL, webhook_url: hook, webhook_events: ['job.succeeded'] });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect((await waitForJob(service.url, id)).status).toBe('succeeded');
    const after = await until(
      () => scrape(`${service.url}/metrics`),
      (exposition) => valueOf(exposition, 'i2v_webhook_deliveries_total', { outcome: 'delivered' }) > valueOf(before, 'i2v_webhook_deliveries_total', { outcome: 'delivered' }),
    );
    const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);

    expect(moved('i2v_jobs_total', { preset: 'motion', status: 'succeeded' })).toBe(1);
    expect(moved('i2v_jobs_total', { preset: 'motion', status: 'failed' })).toBe(0);
    for (const stage of STEPS) expect(moved('i2v_stage_duration_seconds_count', { stage }), stage).toBe(1);
    expect(moved('i2v_stage_duration_seconds_sum', { stage: 'poll' })).toBeGreaterThan(0);
    expect(moved('i2v_render_seconds_count')).toBe(1);
    expect(moved('i2v_render_seconds_sum')).toBeGreaterThan(0);
    for (const endpoint of ['create_session', 'upload', 'run_sse', 'render_start', 'render_poll', 'download']) {
      expect(moved('i2v_backend_requests_total', { endpoint, code: '0' }), endpoint).toBeGreaterThanOrEqual(1);
    }
    expect(moved('i2v_http_requests_total', { method: 'POST', route: '/v1/jobs', status: '202' })).toBe(1);
    expect(moved('i2v_http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs' })).toBe(1);
    expect(moved('i2v_http_requests_total', { method: 'GET', route: '/v1/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(moved('i2v_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(valueOf(after, 'i2v_queue_jobs', { queue: 'render', state: 'completed' })).toBe(1);
    expect(valueOf(after, 'i2v_queue_jobs', { queue: 'render', state: 'waiting' })).toBe(0);
  });

  it('labels requests by route pattern, never by the raw URL', async () => {
    await fetch(`${service.url}/v1/jobs/job_doesnotexist?x=1`, { headers: { authorization: 'Bearer dev-key' } });
    await fetch(`${service.url}/no/such/path/123`, { headers: { authorization: 'Bearer dev-key' } });
    const exposition = await scrape(`${service.url}/metrics`);
    const routes = new Set(exposition.samples.filter((s) => s.name === 'i2v_http_requests_total').map((s) => s.labels.route));
    expect(routes).toContain('/v1/jobs/:id');
    expect(routes).toContain('unmatched');
    expect([...routes].some((route) => route?.includes('job_doesnotexist') || route?.includes('/no/such'))).toBe(false);
  });

  it('GET /v1/admin/stats gives the queue counts and the last hour of throughput', async () => {
    expect((await fetch(`${service.url}/v1/admin/stats`)).status).toBe(401);
    expect((await fetch(`${service.url}/v1/admin/stats`, { headers: { authorization: 'Bearer dev-key' } })).status).toBe(401);
    const response = await fetch(`${service.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(response.status).toBe(200);
    const stats = (await response.json()) as { window_minutes: number; queues: { name: string; counts: Record<string, number>; throughput: { completed: number; failed: number } | null }[] };
    expect(stats.window_minutes).toBe(60);
    expect(stats.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    const render = stats.queues.find((q) => q.name === 'render');
    expect(render?.counts.completed).toBe(1);
    expect(render?.throughput).toEqual({ completed: 1, failed: 0 });
    expect(stats.queues.find((q) => q.name === 'webhooks')?.throughput?.completed).toBe(1);
    expect(stats.queues.find((q) => q.name === 'batches')?.throughput).toBeNull();
  });

  it("the worker's metrics server (METRICS_PORT) answers only with the admin key", async () => {
    const url = service.workerMetricsUrl;
    expect(url).toBeDefined();
    for (const authorization of [undefined, 'Bearer dev-key', `Basic ${Buffer.from(`admin:${ADMIN_KEY}x`).toString('base64')}`]) {
      const response = await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="i2v admin"');
      expect(((await response.json()) as { code: string }).code).toBe('unauthorized');
    }
    expect((await fetch(`${url}/other`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(404);
    const exposition = await scrape(`${url}/metrics`);
    expect(valueOf(exposition, 'i2v_jobs_total', { preset: 'motion', status: 'succeeded' })).toBeGreaterThanOrEqual(1);
  });
});

describe('a worker in its own process', () => {
  let service: TestService;
  let receiver: Receiver;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    service = await startTestService({ engine: { noTextRate: 0 }, env: { ADMIN_KEY }, worker: false });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    receiver?.close();
    await service?.close();
  });

  it('counts the jobs it ran on its own METRICS_PORT', async () => {
    const port = await freePort();
    worker = spawnWorker(service.config, service.engineUrl, { ADMIN_KEY, METRICS_PORT: String(port), HOST: '127.0.0.1', URL_FETCH_ALLOWLIST: '127.0.0.1' });
    const url = `http://127.0.0.1:${port}/metrics`;
    const imageUrl = receiver.serve('/p.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    const created = await postJob(service.url, { images: [imageUrl], options: SMALL });
    const { id } = (await created.json()) as { id: string };
    expect((await waitForJob(service.url, id)).status).toBe('succeeded');
    const exposition = await until(
      () => fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.text()).then(parseExposition),
      (e) => valueOf(e, 'i2v_jobs_total', { status: 'succeeded' }) > 0,
    );
    // a fresh process: exactly the one job, whatever this test process counted
    expect(valueOf(exposition, 'i2v_jobs_total', { preset: 'motion', status: 'succeeded' })).toBe(1);
    for (const stage of STEPS) expect(valueOf(exposition, 'i2v_stage_duration_seconds_count', { stage }), stage).toBe(1);
    expect(valueOf(exposition, 'i2v_queue_jobs', { queue: 'render', state: 'completed' })).toBe(1);
    expect((await fetch(url)).status).toBe(401);
  });
});
