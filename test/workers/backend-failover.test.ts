import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/shared/infra/metrics/registry.ts';
import { deadUrl, startTcpProxy, startUnavailablePeer, type CountingPeer, type TcpProxy } from '../helpers/backend-peers.ts';
import { freePort } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService, type TestServiceOptions } from '../helpers/service.ts';

async function failovers(url: string): Promise<number> {
  const metric = await registry.getSingleMetric('i2v_backend_failovers_total')?.get();
  return metric?.values.find((v) => v.labels.url === url)?.value ?? 0;
}

/** A service (API, worker, engine) whose BACKEND_URL lists more than the engine, and a way to run small jobs through it. */
async function startListed(options: TestServiceOptions): Promise<{ service: TestService; submit(): Promise<string>; runJobs(count: number): Promise<Record<string, any>[]> }> {
  const service = await startTestService(options);
  const photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  const submit = async () => {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    expect(created.status).toBe(202);
    return ((await created.json()) as { id: string }).id;
  };
  const runJobs = async (count: number) => {
    const ids = await Promise.all(Array.from({ length: count }, submit));
    return Promise.all(ids.map((id) => waitForJob(service.url, id)));
  };
  return { service, submit, runJobs };
}

const succeeded = (jobs: Record<string, any>[]) => jobs.map((job) => [job.status, job.error?.code]);

describe('BACKEND_URL = a port nothing listens on, then the engine', () => {
  let service: TestService;
  let runJobs: (count: number) => Promise<Record<string, any>[]>;
  let dead: string;

  beforeAll(async () => {
    dead = await deadUrl();
    // a short cooldown: the dead URL is tried again and again while the jobs run
    ({ service, runJobs } = await startListed({ backendUrl: (engine) => `${dead},${engine}`, env: { BACKEND_URL_COOLDOWN_S: '0.1' } }));
  });
  afterAll(async () => {
    await service?.close();
  });

  it('runs every job to success, moving calls off the dead URL', async () => {
    const jobs = await runJobs(3);
    expect(succeeded(jobs)).toEqual(Array(3).fill(['succeeded', undefined]));
    expect(jobs.map((job) => job.attempts)).toEqual([1, 1, 1]);
    // the worker's first call went to it (the first in the list) and was moved on
    expect(await failovers(dead)).toBeGreaterThanOrEqual(1);
  });

  it('is ready while one of its backend URLs answers', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', backend: true });
  });
});

describe('BACKEND_URL = a peer answering 503 (Python http.server), then the engine', () => {
  let service: TestService;
  let runJobs: (count: number) => Promise<Record<string, any>[]>;
  let unavailable: CountingPeer;

  beforeAll(async () => {
    unavailable = await startUnavailablePeer();
    // a cooldown longer than the test: a URL that failed once is not tried again here
    ({ service, runJobs } = await startListed({ backendUrl: (engine) => `${unavailable.url},${engine}`, env: { BACKEND_URL_COOLDOWN_S: '600' } }));
  });
  afterAll(async () => {
    await service?.close();
    await unavailable?.close();
  });

  it('runs every job to success and skips the 503 peer after it failed', async () => {
    expect(succeeded(await runJobs(1))).toEqual([['succeeded', undefined]]);
    // the first calls of the worker met it (each is moved on to the engine), then it was left out
    const hits = unavailable.hits();
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(await failovers(unavailable.url)).toBeGreaterThanOrEqual(hits);
    const later = await runJobs(3);
    expect(succeeded(later)).toEqual(Array(3).fill(['succeeded', undefined]));
    expect(later.map((job) => job.attempts)).toEqual([1, 1, 1]);
    expect(unavailable.hits()).toBe(hits);
  });
});

describe('BACKEND_URL = a TCP proxy in front of the engine, then the engine; the proxy is killed mid-job', () => {
  let service: TestService;
  let submit: () => Promise<string>;
  let proxy: TcpProxy;
  let engineUrl: string;

  beforeAll(async () => {
    proxy = await startTcpProxy();
    const port = await freePort();
    engineUrl = `http://127.0.0.1:${port}`;
    proxy.forwardTo(port);
    // the engine hands out its links (cdn_url, the render's outputUrl) on the proxy, as an engine behind it would before it died
    ({ service, submit } = await startListed({ backendUrl: () => `${proxy.url},${engineUrl}`, engine: { faults: true, publicUrl: proxy.url, port } }));
  });
  afterAll(async () => {
    await proxy?.kill();
    await service?.close();
  });

  it('finishes the job in its first attempt: the calls and the download move to the engine', async () => {
    const arm = { kind: 'render-delay', seconds: 2 };
    await fetch(`${engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(arm) });
    const id = await submit();
    for (let job = await service.records.get(id); !job?.checkpoint.renderStartedAt; job = await service.records.get(id)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(proxy.connections()).toBeGreaterThan(0);
    await proxy.kill();
    const job = await waitForJob(service.url, id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
    // the render's link named the dead proxy: it was read from the engine instead
    const { checkpoint } = (await service.records.get(id))!;
    expect(new URL(checkpoint.renderOutputUrl as string).origin).toBe(proxy.url);
    expect(await failovers(proxy.url)).toBeGreaterThan(0);
  });
});
