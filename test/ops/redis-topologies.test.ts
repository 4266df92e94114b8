import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { RedisScript } from '../../src/shared/infra/redis-script.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startCluster, startSentinels, startTlsRedis, until, type RedisSet, type SentinelSet } from '../helpers/redis-topologies.ts';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

/** The job as the API shows it; a reply that is not the job (a 503 while Redis fails over) is asked again. */
async function jobOf(service: TestService, id: string): Promise<Record<string, any>> {
  for (;;) {
    const response = await fetch(`${service.url}/v1/jobs/${id}`, { headers: auth }).catch(() => undefined);
    if (response?.status === 200) return (await response.json()) as Record<string, any>;
    await response?.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ended(service: TestService, id: string): Promise<Record<string, any>> {
  for (;;) {
    const job = await jobOf(service, id);
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function uploadPhoto(service: TestService): Promise<string> {
  const photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240));
  const form = new FormData();
  form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'p.jpg');
  const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
  expect(uploaded.status).toBe(201);
  return ((await uploaded.json()) as { data: { id: string }[] }).data[0]?.id as string;
}

async function submit(service: TestService, upload: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await postJob(service.url, { images: [`upload:${upload}`], options: SMALL });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    }),
  );
}

/** A job held with Prefer: wait comes back done only if the API heard the worker's events (pub/sub). */
async function expectWaitedJob(service: TestService, upload: string): Promise<void> {
  const response = await postJob(service.url, { images: [`upload:${upload}`], options: SMALL }, 'dev-key', { prefer: 'wait=60' });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { status: string }).status).toBe('succeeded');
}

/** Cancels a job while it runs: the API's publish on the cancel channel reaches the worker. */
async function expectCanceledWhileRunning(service: TestService, upload: string): Promise<void> {
  const response = await postJob(service.url, { images: [`upload:${upload}`], options: { ...SMALL, duration_s: 5 } });
  const { id } = (await response.json()) as { id: string };
  await until(async () => (await jobOf(service, id)).status === 'running');
  const canceled = await fetch(`${service.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: auth });
  expect(canceled.status).toBe(200);
  expect((await ended(service, id)).status).toBe('canceled');
}

function topology(name: string, start: () => Promise<RedisSet>, env: (set: RedisSet) => Record<string, string> = () => ({})) {
  describe(name, () => {
    let set: RedisSet;
    let service: TestService;
    let upload: string;

    beforeAll(async () => {
      set = await start();
      service = await startTestService({ env: { ...set.env, ...env(set) }, engine: { agentDelayMs: 0, noTextRate: 0 } });
      upload = await uploadPhoto(service);
    });
    afterAll(async () => {
      await service?.close();
      await set?.stop();
    });

    it('runs jobs through the API, the worker and the engine', async () => {
      const scriptKeys = new Set<string>();
      const run = RedisScript.prototype.run;
      const spy = vi.spyOn(RedisScript.prototype, 'run').mockImplementation(function (this: RedisScript, redis, keys, args) {
        for (const key of keys) scriptKeys.add(key);
        return run.call(this, redis, keys, args);
      });
      onTestFinished(() => spy.mockRestore());
      const ids = await submit(service, upload, 3);
      for (const id of ids) expect(await ended(service, id)).toMatchObject({ status: 'succeeded', stage: 'done' });
      await expectWaitedJob(service, upload);
      await expectCanceledWhileRunning(service, upload);
      // every key a project script was given is under the prefix (and so, on a cluster, in its hash tag's slot)
      expect(scriptKeys.size).toBeGreaterThan(5);
      expect([...scriptKeys].filter((key) => !key.startsWith(`${service.config.REDIS_PREFIX}:`))).toEqual([]);
    });
  });
}

topology('a Redis Cluster (three masters, three replicas)', startCluster, () => ({ REDIS_PREFIX: `{test-${randomBytes(6).toString('hex')}}` }));

topology('a Redis over TLS with a private CA and a client certificate', startTlsRedis);

/** Watches the API answer GET /v1/jobs/{id} for the jobs until stopped; returns every answer that was neither a 200 nor a 503 problem with Retry-After. */
function watchApi(service: TestService, ids: readonly string[]): { stop(): Promise<string[]> } {
  const unexpected: string[] = [];
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      for (const id of ids) {
        const response = await fetch(`${service.url}/v1/jobs/${id}`, { headers: auth }).catch((error: Error) => error);
        if (response instanceof Error) {
          unexpected.push(`GET ${id}: ${response.message}`);
          continue;
        }
        const body = await response.text();
        const retryable = response.status === 503 && response.headers.get('content-type')?.startsWith('application/problem+json') && response.headers.has('retry-after');
        if (response.status !== 200 && !retryable) unexpected.push(`GET ${id}: ${response.status} ${body}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const polling = poll();
  return {
    async stop() {
      stopped = true;
      await polling;
      return unexpected;
    },
  };
}

/** Six jobs (two run, four wait); the master is switched once one of them is storing its video, so jobs are being finished across the switch. */
async function expectJobsAcross(service: TestService, upload: string, switchMaster: () => Promise<number>): Promise<number> {
  const ids = await submit(service, upload, 6);
  const api = watchApi(service, ids);
  await until(async () => (await Promise.all(ids.map((id) => jobOf(service, id)))).some((job) => job.stage === 'storing'));
  const after = await switchMaster();
  for (const id of ids) {
    const job = await ended(service, id);
    expect({ id, status: job.status, stage: job.stage, error: job.error }).toEqual({ id, status: 'succeeded', stage: 'done', error: null });
  }
  expect(await api.stop()).toEqual([]);
  return after;
}

// The worker's recovery settings are the defaults (a 30 s lock, a 30 s stall check, a 60 s watchdog): a failover must
// not need them, since a job that did would outlast the test's 60 s.
describe('Redis Sentinel (a master, a replica, three sentinels), default worker settings', () => {
  let sentinels: SentinelSet;
  let service: TestService;
  let upload: string;

  beforeAll(async () => {
    sentinels = await startSentinels();
    // the test's own polling is far over the default rate limit
    service = await startTestService({ env: { ...sentinels.env, RATE_LIMIT_PER_MINUTE: '100000' }, engine: { agentDelayMs: 0, noTextRate: 0 } });
    upload = await uploadPhoto(service);
  });
  afterAll(async () => {
    await service?.close();
    await sentinels?.stop();
  });

  it('a switch-over (SENTINEL FAILOVER) while jobs run: every job succeeds, the API answers 200 or 503 with Retry-After, pub/sub follows', async () => {
    const before = await sentinels.masterPort();
    const after = await expectJobsAcross(service, upload, () => sentinels.failover());
    expect(after).not.toBe(before);
    const direct: Redis = createRedis(`redis://127.0.0.1:${after}`);
    try {
      expect((await direct.info('replication')).includes('role:master')).toBe(true);
    } finally {
      direct.disconnect();
    }
    await expectWaitedJob(service, upload);
    await expectCanceledWhileRunning(service, upload);
  });

  it('the master SIGKILLed while jobs run: every job succeeds, the API answers 200 or 503 with Retry-After', async () => {
    const before = await sentinels.masterPort();
    expect(await expectJobsAcross(service, upload, () => sentinels.killMaster())).not.toBe(before);
    await expectWaitedJob(service, upload);
  });
});
