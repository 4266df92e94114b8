import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { MAX_ATTEMPTS_KEPT, WebhookStore } from '../../src/shared/webhooks/store.ts';
import { deleteOldRecords } from '../../src/workers/retention.ts';
import { Receiver } from '../webhooks/receiver.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

async function uploadPhoto(service: TestService): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' }), 'p.jpg');
  return ((await (await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form })).json()) as { data: { id: string }[] }).data[0]?.id as string;
}

/** Every key of the service's prefix whose name contains `part`. */
async function keysWith(redis: Redis, prefix: string, part: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys.filter((key) => key.includes(part)));
  } while (cursor !== '0');
  return found;
}

describe('job records past HISTORY_DAYS', () => {
  let service: TestService;
  let redis: Redis;
  let upload: string;

  beforeAll(async () => {
    service = await startTestService({ engine: { noTextRate: 0 } });
    redis = createRedis(service.config.REDIS_URL);
    upload = await uploadPhoto(service);
  });
  afterAll(async () => {
    redis?.disconnect();
    await service?.close();
  });

  const run = async () => ((await (await postJob(service.url, { images: [`upload:${upload}`], options: SMALL })).json()) as { id: string }).id;

  it('are deleted with their index entries and their files; younger ones stay', async () => {
    const old = await waitForJob(service.url, await run());
    const recent = await waitForJob(service.url, await run());
    const [oldEnd, recentEnd] = [Date.parse(old.finished_at), Date.parse(recent.finished_at)];
    expect(recentEnd).toBeGreaterThan(oldEnd);
    const deps = { records: service.records, uploads: service.uploadFiles, storage: service.storage, logger: createLogger({ level: 'silent' }) };

    // as if it were a moment after the recent job ended, with a history that reaches back between the two ends
    const now = recentEnd + 1000;
    expect(await deleteOldRecords(deps, now - (oldEnd + recentEnd) / 2, now)).toEqual([old.id]);

    expect((await fetch(`${service.url}/v1/jobs/${old.id}`, { headers: auth })).status).toBe(404);
    expect(await keysWith(redis, service.config.REDIS_PREFIX, `:job:${old.id}`)).toEqual([]);
    const listed = ((await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: { id: string }[] }).data.map((job) => job.id);
    expect(listed).toContain(recent.id);
    expect(listed).not.toContain(old.id);
    const prefix = service.config.REDIS_PREFIX;
    for (const index of [`${prefix}:tenant:dev:jobs`, `${prefix}:history`, `${prefix}:finished`]) expect(await redis.zscore(index, old.id)).toBeNull();
    expect(await service.storage.size(`outputs/${old.id}/video.mp4`)).toBeUndefined();

    expect((await fetch(`${service.url}/v1/jobs/${recent.id}`, { headers: auth })).status).toBe(200);
    expect(await service.storage.size(`outputs/${recent.id}/video.mp4`)).toBeGreaterThan(0);
    // nothing more is due
    expect(await deleteOldRecords(deps, now - (oldEnd + recentEnd) / 2, now)).toEqual([]);
  });
});

describe('a deployment with a short HISTORY_DAYS', () => {
  let service: TestService;
  let redis: Redis;
  let receiver: Receiver;

  beforeAll(async () => {
    // about 1.7 s of history, looked at every half second
    service = await startTestService({ env: { HISTORY_DAYS: '0.00002', RETENTION_INTERVAL_S: '0.5' }, engine: { noTextRate: 0 } });
    redis = createRedis(service.config.REDIS_URL);
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    receiver?.close();
    redis?.disconnect();
    await service?.close();
  });

  it('loses the job, the batch and the deliveries by itself once the period has passed', async () => {
    const prefix = service.config.REDIS_PREFIX;
    const hook = receiver.answer('/hook', () => ({ status: 200 }));
    const item = { images: [`upload:${await uploadPhoto(service)}`], options: SMALL, webhook_url: hook, webhook_events: ['job.started', 'job.progress', 'job.succeeded'] };
    const created = await fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ items: [item] }) });
    expect(created.status).toBe(202);
    const batch = (await created.json()) as { id: string; job_ids: string[] };
    const jobId = batch.job_ids[0] as string;
    expect((await waitForJob(service.url, jobId)).status).toBe('succeeded');
    // started, progress and succeeded were delivered, so their events and attempts were kept
    await receiver.waitFor('/hook', 3);
    const deliveries = async () => ((await (await fetch(`${service.url}/v1/webhooks/deliveries?job_id=${jobId}`, { headers: auth })).json()) as { data: unknown[] }).data;

    const gone = async () =>
      (await fetch(`${service.url}/v1/jobs/${jobId}`, { headers: auth })).status === 404 &&
      (await fetch(`${service.url}/v1/batches/${batch.id}`, { headers: auth })).status === 404 &&
      (await deliveries()).length === 0;
    for (const deadline = Date.now() + 30_000; !(await gone()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
    expect(await gone()).toBe(true);
    for (const part of [`:job:${jobId}`, `:batch:${batch.id}`, ':webhooks:event:', ':webhooks:attempt:']) expect(await keysWith(redis, prefix, part)).toEqual([]);
  });
});

describe('delivery attempts beyond the 1,000 kept per tenant', () => {
  let redis: Redis;
  const prefix = `test-${randomBytes(6).toString('hex')}`;

  beforeAll(() => {
    redis = createRedis(inject('redisUrl'));
  });
  afterAll(() => redis?.disconnect());

  it('leave Redis with their index entry', async () => {
    const store = new WebhookStore(redis, prefix);
    const attempt = { event_id: 'evt_x', type: 'job.progress', job_id: 'job_x', batch_id: null, url: 'https://hooks.example/x', status: 'delivered', response_status: 200, duration_ms: 3, error: null, attempt: 1, next_attempt_at: null } as const;
    const first = await store.record('shop', attempt);
    for (let i = 0; i < MAX_ATTEMPTS_KEPT; i++) await store.record('shop', attempt);

    expect(await store.attempt('shop', first.id)).toBeUndefined();
    expect((await keysWith(redis, prefix, ':webhooks:attempt:')).length).toBe(MAX_ATTEMPTS_KEPT);
    expect(await redis.zcard(`${prefix}:webhooks:deliveries:shop`)).toBe(MAX_ATTEMPTS_KEPT);
  });
});
