import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/shared/infra/ids.ts';
import { JobRecords, type JobRecord } from '../../src/shared/jobs/job-record.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createRenderQueue } from '../../src/shared/infra/queues.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { createWebhookQueue, jobEventId } from '../../src/shared/webhooks/events.ts';
import { createWebhookParts, type WebhookParts } from '../../src/shared/webhooks/setup.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver, verify } from './receiver.ts';

const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const CONFIGURED_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const auth = { authorization: 'Bearer dev-key' };

describe('webhook events: progress, one event per change, reconciliation, configured secrets, timeouts', () => {
  let service: TestService;
  let receiver: Receiver;
  let imageUrl: string;
  let redis: Redis;
  let records: JobRecords;
  let queue: ReturnType<typeof createWebhookQueue>;
  let webhooks: WebhookParts;

  beforeAll(async () => {
    service = await startTestService({
      // the agent thinks for 2.5 s, so a job runs long enough for two progress events
      engine: { agentDelayMs: 2500, heartbeatMs: 500, noTextRate: 0 },
      env: { WEBHOOK_SECRETS: `dev=${CONFIGURED_SECRET}`, WEBHOOK_RETRY_SCHEDULE: '0,0.2,0.2', WEBHOOK_TIMEOUT_S: '0.5', PUBLIC_URL: 'https://videos.example' },
    });
    receiver = await new Receiver().start();
    imageUrl = receiver.serve('/photo.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    redis = createRedis(service.config.REDIS_URL);
    records = new JobRecords(redis, service.config.REDIS_PREFIX);
    queue = createWebhookQueue(redis, service.config.REDIS_PREFIX);
    webhooks = createWebhookParts(service.config, redis, records, queue, createLogger({ level: 'silent' }), service.storage);
  });
  afterAll(async () => {
    receiver?.close();
    await queue?.close();
    redis?.disconnect();
    await service?.close();
  });

  async function deliveriesOf(jobId: string): Promise<any[]> {
    const response = await fetch(`${service.url}/v1/webhooks/deliveries?job_id=${jobId}`, { headers: auth });
    return ((await response.json()) as { data: any[] }).data;
  }

  async function delivery(jobId: string, done: (list: any[]) => boolean): Promise<any[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = await deliveriesOf(jobId);
      if (done(list)) return list;
      if (Date.now() > deadline) throw new Error(JSON.stringify(list));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('sends opt-in progress at most once per 2 s, and one job.succeeded however often it is emitted', async () => {
    const hook = receiver.answer('/progress', () => ({ status: 200 }));
    const created = await postJob(service.url, { images: [imageUrl], options: SMALL, webhook_url: hook, webhook_events: ['job.progress', 'job.succeeded'] });
    const { id } = (await created.json()) as { id: string };
    expect((await waitForJob(service.url, id)).status).toBe('succeeded');
    await delivery(id, (list) => list.some((d) => d.type === 'job.succeeded'));

    const events = receiver.at('/progress');
    for (const event of events) expect(verify(CONFIGURED_SECRET, event)).toEqual(event.event);
    const progress = events.filter((e) => e.event.type === 'job.progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const event of progress) expect(event.event.data).toMatchObject({ id, status: 'running' });
    const sent = progress.map((e) => Date.parse(e.event.timestamp));
    for (let i = 1; i < sent.length; i++) expect((sent[i] ?? 0) - (sent[i - 1] ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(progress.map((e) => e.event.data.progress)).toEqual([...progress.map((e) => e.event.data.progress)].sort((a, b) => a - b));
    expect(new Set(progress.map((e) => e.headers['webhook-id'])).size).toBe(progress.length);
    expect(events.filter((e) => e.event.type === 'job.started')).toHaveLength(0);

    // the transition already emitted it; emitting it again (as a resumed worker or a sweep would) adds nothing
    const eventId = `evt_${id.slice(4)}_succeeded`;
    expect(await webhooks.emitter.emitJobEvent('job.succeeded', id)).toBe(eventId);
    expect(await webhooks.emitter.emitJobEvent('job.succeeded', id)).toBe(eventId);
    expect(await webhooks.emitter.reconcileJobEvents(id)).toBe(eventId);
    const queued = await queue.getJobs(['completed', 'waiting', 'active', 'delayed', 'failed', 'prioritized']);
    expect(queued.filter((job) => job.data.event.id === eventId)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/progress').filter((e) => e.event.type === 'job.succeeded')).toHaveLength(1);
    expect((await deliveriesOf(id)).filter((d) => d.type === 'job.succeeded')).toHaveLength(1);
  });

  it('sends the terminal event of a job whose worker stopped between the status write and the webhook', async () => {
    const hook = receiver.answer('/reconciled', () => ({ status: 200 }));
    const id = newId('job');
    const record: JobRecord = {
      id, tenant: 'dev', status: 'queued', stage: 'queued', progress: 0, preset: 'motion', prompt: '', options: {}, inputs: [],
      createdAt: new Date().toISOString(), attempts: 0, checkpoint: {}, metadata: {}, webhookUrl: hook, webhookEvents: ['job.succeeded', 'job.failed', 'job.canceled'],
    };
    await records.create(record);
    expect(await records.transition(id, 'start', { attempts: 1, startedAt: new Date().toISOString() })).toBe(true);
    // what the lifecycle writes last, with no emission after it: the process "died" here
    expect(await records.transition(id, 'fail', { error: { code: 'x', message: 'x', retryable: true }, finishedAt: new Date().toISOString() })).toBe(true);
    // BullMQ hands the stalled job to a worker, which finds it ended
    const renders = createRenderQueue(redis, service.config.REDIS_PREFIX);
    await renders.add('render', { jobId: id }, { jobId: id });
    await renders.close();
    const [event] = await receiver.waitFor('/reconciled', 1);
    const failed = (await records.get(id)) as JobRecord;
    expect(event?.headers['webhook-id']).toBe(jobEventId('job.failed', failed));
    expect(event?.event).toMatchObject({ type: 'job.failed', data: { id, status: 'failed', error: { code: 'x' } } });
  });

  it('signs with the secret from WEBHOOK_SECRETS until the tenant rotates it', async () => {
    const shown = await fetch(`${service.url}/v1/webhooks/secret`, { headers: auth });
    expect(await shown.json()).toEqual({ secret: CONFIGURED_SECRET, created_at: null, previous_secret_expires_at: null, lost_secret: null, held_deliveries: 0 });
    const rotated = (await (await fetch(`${service.url}/v1/webhooks/secret/rotate`, { method: 'POST', headers: auth })).json()) as { secret: string };
    expect(rotated.secret).not.toBe(CONFIGURED_SECRET);
    expect(await webhooks.secrets.signing('dev')).toEqual([rotated.secret, CONFIGURED_SECRET]);
  });

  it('retries a receiver that does not answer in time', async () => {
    const hook = receiver.answer('/slow', (n) => ({ status: 200, delayMs: n === 1 ? 1500 : 0 }));
    const created = await postJob(service.url, { images: [`${receiver.url}/missing.jpg`], webhook_url: hook });
    const { id } = (await created.json()) as { id: string };
    const list = await delivery(id, (l) => l.some((d) => d.status === 'delivered'));
    expect(list.map((d) => [d.status, d.response_status])).toEqual([
      ['delivered', 200],
      ['retrying', null],
    ]);
    expect(list[1].error).toContain('did not answer within 500 ms');
    expect(list[1].duration_ms).toBeGreaterThanOrEqual(450);
    const attempts = receiver.at('/slow');
    expect(attempts.map((a) => a.headers['webhook-id'])).toEqual([attempts[0]?.headers['webhook-id'], attempts[0]?.headers['webhook-id']]);
  });
});
