import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { RENDER_QUEUE } from '../../src/shared/infra/queues.ts';
import type { JobRecord } from '../../src/shared/jobs/job-record.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';

const OPTIONS = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

const engineFaults = (service: TestService, faults: unknown) =>
  fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });

async function submit(service: TestService, photos: PhotoServer, n: number, key = 'dev-key'): Promise<string> {
  const response = await postJob(service.url, { images: [photos.photo(n)], options: OPTIONS }, key);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function until(read: () => Promise<boolean>): Promise<void> {
  while (!(await read())) await new Promise((r) => setTimeout(r, 10));
}

describe('TENANT_MAX_RUNNING: a tenant runs at most N jobs at once, across the fleet', () => {
  let service: TestService;
  let photos: PhotoServer;
  let queue: Queue;
  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true }, env: { TENANT_MAX_RUNNING: '1', WORKER_CONCURRENCY: '2' } });
    photos = await startPhotoServer(service.dir);
    queue = new Queue(RENDER_QUEUE, { connection: createRedis(service.config), prefix: service.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    photos?.close();
    await queue?.close();
    await service?.close();
  });

  it('runs three jobs of one tenant one after another on a worker with two slots; none uses up an attempt waiting', async () => {
    // each render takes a while, so a second slot would overlap them if the limit let it
    await engineFaults(service, { kind: 'render-delay', seconds: 1, times: 3 });
    const ids = [await submit(service, photos, 1), await submit(service, photos, 2), await submit(service, photos, 3)];
    let mostRunning = 0;
    let sawWaiting = false;
    let jobs: JobRecord[] = [];
    await until(async () => {
      jobs = await service.records.getMany(ids);
      const running = jobs.filter((job) => job.status === 'running').length;
      mostRunning = Math.max(mostRunning, running);
      if (running === 1 && jobs.some((job) => job.status === 'queued')) sawWaiting = true;
      return jobs.every((job) => job.status !== 'queued' && job.status !== 'running');
    });
    expect(mostRunning).toBe(1);
    expect(sawWaiting).toBe(true);
    expect(jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // each started after the one before it ended
    const byStart = [...jobs].sort((a, b) => Date.parse(a.startedAt as string) - Date.parse(b.startedAt as string));
    for (let i = 1; i < byStart.length; i++) expect(Date.parse(byStart[i]?.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(byStart[i - 1]?.finishedAt as string));
    // one start each on the record, one attempt each in BullMQ, no error left behind
    expect(jobs.map((job) => [job.attempts, job.error])).toEqual([[1, undefined], [1, undefined], [1, undefined]]);
    // the record says succeeded a moment before BullMQ counts the attempt as made
    await until(async () => (await Promise.all(ids.map((id) => queue.getJob(id)))).every((job) => job?.finishedOn !== undefined));
    expect(await Promise.all(ids.map(async (id) => (await queue.getJob(id))?.attemptsMade))).toEqual([1, 1, 1]);
    expect(await service.records.tenantRunning('dev')).toBe(0);
  });
});

describe("TENANT_MAX_RUNNING after a worker is SIGKILLed mid-job: the tenant's place is not lost", () => {
  let service: TestService;
  let photos: PhotoServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    // the API and the engine here; every worker is a child process
    service = await startTestService({ worker: false, engine: { faults: true } });
    photos = await startPhotoServer(service.dir);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => stopWorker(child, 'SIGKILL')));
  });
  afterAll(async () => {
    photos?.close();
    await service?.close();
  });

  const worker = (env: Record<string, string> = {}) => {
    const child = spawnWorker(service.config, service.engineUrl, { TENANT_MAX_RUNNING: '1', WORKER_CONCURRENCY: '2', URL_FETCH_ALLOWLIST: '127.0.0.1', ...env });
    children.push(child);
    return child;
  };

  /** Starts a job on a worker of its own and SIGKILLs that worker while the job instructs; its place stays taken. */
  async function killMidJob(n: number): Promise<string> {
    await engineFaults(service, { kind: 'slow-agent', seconds: 3 });
    const victim = worker();
    const id = await submit(service, photos, n);
    await until(async () => {
      const job = await service.records.get(id);
      expect(job?.status).not.toBe('failed');
      return job?.stage === 'instructing';
    });
    await stopWorker(victim, 'SIGKILL');
    expect(await service.records.tenantRunning('dev')).toBe(1);
    return id;
  }

  it('a job taken over after its worker died keeps the place and frees it when it ends; the next job runs', async () => {
    const killed = await killMidJob(10);
    const next = await submit(service, photos, 11);
    worker();
    expect((await waitForJob(service.url, killed, 'dev-key', 60_000)).status).toBe('succeeded');
    expect((await waitForJob(service.url, next, 'dev-key', 60_000)).status).toBe('succeeded');
    expect(await service.records.tenantRunning('dev')).toBe(0);
  });

  it('a job BullMQ gives up on after the stall is failed worker_lost by the watchdog, which frees its place; the next job runs', async () => {
    const killed = await killMidJob(20);
    const next = await submit(service, photos, 21);
    // no stall allowed: BullMQ fails the killed job at once; the watchdog finds its record still running
    worker({ WORKER_MAX_STALLS: '0', WATCHDOG_INTERVAL_S: '1' });
    expect(await waitForJob(service.url, killed, 'dev-key', 60_000)).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } });
    expect((await waitForJob(service.url, next, 'dev-key', 60_000)).status).toBe('succeeded');
    expect(await service.records.tenantRunning('dev')).toBe(0);
  });
});
