import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/private-redis.ts';
import { MAINTENANCE_QUEUE, RETENTION_QUEUE } from '../../src/shared/infra/queues.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';
import { Receiver } from '../webhooks/receiver.ts';

const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const auth = { authorization: 'Bearer dev-key' };
/** what a client would wait at most; the service must answer well before */
const CLIENT_TIMEOUT_MS = 15_000;

describe('Redis stopped and restarted under a running API and worker', () => {
  let redisDir: string;
  let redis: PrivateRedis;
  let service: TestService;
  let worker: ChildProcess;
  let receiver: Receiver;
  let imageUrl: string;
  let firstJob: string;

  beforeAll(async () => {
    // its own redis-server (the suite's is shared with other files), keeping its data in an append-only file
    redisDir = await mkdtemp(path.join(tmpdir(), 'i2v-redis-outage-'));
    redis = await startPrivateRedis({ dir: redisDir, appendOnly: true });
    service = await startTestService({ worker: false, env: { REDIS_URL: redis.url } });
    worker = spawnWorker(service.config, service.engineUrl, { URL_FETCH_ALLOWLIST: '127.0.0.1' });
    receiver = await new Receiver().start();
    imageUrl = receiver.serve('/photo.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
  });
  afterAll(async () => {
    receiver?.close();
    if (worker) await stopWorker(worker, 'SIGKILL');
    await service?.close();
    await redis?.stop();
    if (redisDir) await rm(redisDir, { recursive: true, force: true });
  });

  const get = (route: string) => fetch(`${service.url}${route}`, { headers: auth, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
  const submit = () => postJob(service.url, { images: [imageUrl], options: SMALL });
  const submitBounded = () =>
    fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ images: [imageUrl], options: SMALL }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });

  async function expectStoreUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    const problem = (await response.json()) as { code: string; status: number; detail: string };
    expect(problem).toMatchObject({ code: 'store_unavailable', status: 503 });
    expect(problem.detail).not.toMatch(/ioredis|ECONNREFUSED|timed out|127\.0\.0\.1/);
  }

  async function expectNotReady(): Promise<void> {
    const ready = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', redis: false });
  }

  async function untilReady(): Promise<void> {
    for (;;) {
      const ready = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
      if (ready.status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('runs a job before the outage', async () => {
    const created = await submit();
    expect(created.status).toBe(202);
    firstJob = ((await created.json()) as { id: string }).id;
    expect((await waitForJob(service.url, firstJob)).status).toBe('succeeded');
  });

  it('answers 503 store_unavailable, and /readyz 503, while redis-server is frozen (SIGSTOP): no request hangs', async () => {
    redis.process.kill('SIGSTOP');
    try {
      await expectStoreUnavailable(await submitBounded());
      await expectStoreUnavailable(await get(`/v1/jobs/${firstJob}`));
      await expectNotReady();
    } finally {
      redis.process.kill('SIGCONT');
    }
    await untilReady();
  });

  it('answers 503 while redis-server is gone, and resumes with the same API and worker once it is back on its port', async () => {
    const exited = new Promise((resolve) => redis.process.once('exit', resolve));
    redis.process.kill('SIGKILL');
    await exited;

    await expectStoreUnavailable(await submitBounded());
    await expectStoreUnavailable(await get(`/v1/jobs/${firstJob}`));
    await expectNotReady();

    redis = await startPrivateRedis({ port: redis.port, dir: redisDir, appendOnly: true });
    await untilReady();
    // the data came back from the append-only file
    expect(((await (await get(`/v1/jobs/${firstJob}`)).json()) as { status: string }).status).toBe('succeeded');

    const created = await submit();
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect((await waitForJob(service.url, id)).status).toBe('succeeded');
    // the same worker process ran it: it never exited
    expect(worker.exitCode).toBeNull();
    expect(worker.signalCode).toBeNull();
  });

  it('restores the maintenance schedules when Redis comes back without its data', async () => {
    const exited = new Promise((resolve) => redis.process.once('exit', resolve));
    redis.process.kill('SIGKILL');
    await exited;
    await rm(redisDir, { recursive: true, force: true });
    await mkdir(redisDir);
    redis = await startPrivateRedis({ port: redis.port, dir: redisDir, appendOnly: true });
    await untilReady();

    const connection = createRedis(redis.url);
    const queues = [MAINTENANCE_QUEUE, RETENTION_QUEUE].map((name) => new Queue(name, { connection, prefix: service.config.REDIS_PREFIX }));
    try {
      // the worker's watchdog and retention run on BullMQ job schedulers, which lived in the lost data
      for (;;) {
        const schedulers = await Promise.all(queues.map((queue) => queue.getJobSchedulers()));
        if (schedulers.every((list) => list.length > 0)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    }
    const created = await submit();
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect((await waitForJob(service.url, id)).status).toBe('succeeded');
    expect(worker.exitCode).toBeNull();
  });
});
