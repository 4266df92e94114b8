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

describe('Redis Sentinel (a master, a replica, three sentinels)', () => {
  let sentinels: SentinelSet;
  let service: TestService;
  let upload: string;

  beforeAll(async () => {
    sentinels = await startSentinels();
    // writes the old master took after the replica was promoted are lost with it (Redis replicates asynchronously):
    // the service's own recovery (lapsed locks, the watchdog) is what finishes a job they touched, so it is made quick here
    const recovery = { WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000', WATCHDOG_INTERVAL_S: '2', JOB_BACKOFF_MS: '200' };
    service = await startTestService({ env: { ...sentinels.env, ...recovery }, engine: { agentDelayMs: 0, noTextRate: 0 } });
    upload = await uploadPhoto(service);
  });
  afterAll(async () => {
    await service?.close();
    await sentinels?.stop();
  });

  it('finishes every job in flight across a master failover, and pub/sub follows the new master', async () => {
    const before = await sentinels.masterPort();
    const ids = await submit(service, upload, 4);
    await until(async () => (await jobOf(service, ids[0] as string)).status !== 'queued');
    const after = await sentinels.failover();
    expect(after).not.toBe(before);
    for (const id of ids) {
      const job = await ended(service, id);
      expect({ status: job.status, stage: job.stage, error: job.error }).toEqual({ status: 'succeeded', stage: 'done', error: null });
    }
    // the job records are on the new master
    const direct: Redis = createRedis(`redis://127.0.0.1:${after}`);
    try {
      expect(await direct.hget(`${service.config.REDIS_PREFIX}:job:${ids[0]}`, 'status')).toBe('succeeded');
      expect((await direct.info('replication')).includes('role:master')).toBe(true);
    } finally {
      direct.disconnect();
    }
    await expectWaitedJob(service, upload);
    await expectCanceledWhileRunning(service, upload);
  });
});
