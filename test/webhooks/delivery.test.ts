import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver, verify, type Received } from './receiver.ts';

const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const KEY_A = 'key-shop';
const KEY_B = 'key-other';
const RECEIVER_HOST = '127.0.0.2';

describe('webhooks delivered over HTTP to a real receiver', () => {
  let service: TestService;
  let receiver: Receiver;
  let imageUrl: string;

  beforeAll(async () => {
    service = await startTestService({
      engine: { agentDelayMs: 0, noTextRate: 0 },
      env: {
        API_KEYS: `shop=${KEY_A},other=${KEY_B}`,
        PUBLIC_URL: 'https://videos.example',
        WEBHOOK_RETRY_SCHEDULE: '0,0.2,0.2,0.2,0.2',
        // the receiver's address only: the machine's own host name (127.0.0.1, 127.0.1.1 or a container address) stays refused
        URL_FETCH_ALLOWLIST: RECEIVER_HOST,
      },
    });
    receiver = await new Receiver().start(RECEIVER_HOST);
    imageUrl = receiver.serve('/photo.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
  });
  afterAll(async () => {
    receiver?.close();
    await service?.close();
  });

  async function call(method: string, url: string, key = KEY_A): Promise<{ status: number; body: any }> {
    const response = await fetch(`${service.url}${url}`, { method, headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: await response.json() };
  }

  async function secretOf(key = KEY_A): Promise<string> {
    return (await call('GET', '/v1/webhooks/secret', key)).body.secret;
  }

  async function createJob(body: Record<string, unknown>, key = KEY_A): Promise<string> {
    const response = await postJob(service.url, body, key);
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  /** A job that fails at once (its image is missing), so its job.failed event is all it sends. */
  function failingJob(webhookUrl: string, key = KEY_A): Promise<string> {
    return createJob({ images: [`${receiver.url}/missing.jpg`], webhook_url: webhookUrl }, key);
  }

  async function deliveriesUntil(query: string, done: (list: any[]) => boolean, key = KEY_A): Promise<any[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { status, body } = await call('GET', `/v1/webhooks/deliveries?${query}`, key);
      expect(status).toBe(200);
      if (done(body.data)) return body.data;
      if (Date.now() > deadline) throw new Error(`deliveries for ${query}: ${JSON.stringify(body.data)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('sends the chosen events, signed for standardwebhooks, with the job exactly as GET returns it', async () => {
    const secret = await secretOf();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const hook = receiver.answer('/chosen', () => ({ status: 204 }));
    const id = await createJob({ images: [imageUrl], options: SMALL, webhook_url: hook, webhook_events: ['job.started', 'job.succeeded'], metadata: { sku: 'A-1' } });
    const job = await waitForJob(service.url, id, KEY_A);
    expect(job.status).toBe('succeeded');
    const [started, succeeded] = await receiver.waitFor('/chosen', 2);

    for (const delivery of receiver.at('/chosen')) {
      expect(verify(secret, delivery)).toEqual(delivery.event);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(Object.keys(delivery.event).sort()).toEqual(['data', 'timestamp', 'type']);
    }
    expect(started?.event).toMatchObject({ type: 'job.started', data: { id, status: 'running', metadata: { sku: 'A-1' } } });
    expect(succeeded?.event.type).toBe('job.succeeded');
    expect(succeeded?.event.data).toEqual((await call('GET', `/v1/jobs/${id}`)).body);
    expect(succeeded?.event.data.result.video_url).toBe(`https://videos.example/v1/jobs/${id}/video`);
    expect(succeeded?.headers['webhook-id']).toBe(`evt_${id.slice(4)}_succeeded`);

    // nothing else was sent (no job.progress: it was not asked for)
    const list = await deliveriesUntil(`job_id=${id}`, (l) => l.length === 2);
    expect(list.map((d) => [d.type, d.status, d.response_status])).toEqual([
      ['job.succeeded', 'delivered', 204],
      ['job.started', 'delivered', 204],
    ]);
    expect(receiver.at('/chosen')).toHaveLength(2);
  });

  it('retries a receiver that fails three times, with one event id, until it succeeds', async () => {
    const secret = await secretOf();
    const hook = receiver.answer('/flaky', (n) => ({ status: n <= 3 ? 500 : 200 }));
    const id = await failingJob(hook);
    const attempts = await receiver.waitFor('/flaky', 4);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    for (const attempt of attempts) verify(secret, attempt);
    expect(attempts[0]?.event).toMatchObject({ type: 'job.failed', data: { id, status: 'failed', error: { code: 'fetch_failed' } } });

    const list = await deliveriesUntil(`job_id=${id}`, (l) => l.some((d) => d.status === 'delivered'));
    expect(list.map((d) => [d.status, d.attempt, d.response_status])).toEqual([
      ['delivered', 4, 200],
      ['retrying', 3, 500],
      ['retrying', 2, 500],
      ['retrying', 1, 500],
    ]);
    expect(list.every((d) => d.event_id === attempts[0]?.headers['webhook-id'])).toBe(true);
    expect(list[1].next_attempt_at).toEqual(expect.any(String));
    expect(list[0].next_attempt_at).toBeNull();
    const filtered = await call('GET', `/v1/webhooks/deliveries?job_id=${id}&status=retrying&limit=2`);
    expect(filtered.body.data.map((d: any) => d.attempt)).toEqual([3, 2]);
    expect(filtered.body.next_cursor).toBe(filtered.body.data[1].id);
    const next = await call('GET', `/v1/webhooks/deliveries?job_id=${id}&status=retrying&cursor=${filtered.body.next_cursor}`);
    expect(next.body.data.map((d: any) => d.attempt)).toEqual([1]);
  });

  it('gives up after the last attempt of the schedule', async () => {
    const hook = receiver.answer('/down', () => ({ status: 503 }));
    const id = await failingJob(hook);
    const list = await deliveriesUntil(`job_id=${id}`, (l) => l.some((d) => d.status === 'failed'));
    expect(list.map((d) => d.status)).toEqual(['failed', 'retrying', 'retrying', 'retrying', 'retrying']);
    expect(list[0]).toMatchObject({ attempt: 5, response_status: 503, next_attempt_at: null });
    expect(list[0].error).toContain('gave up after 5 attempts');
    expect(receiver.at('/down')).toHaveLength(5);
  });

  it('stops calling a URL that answered 410 Gone, for later jobs too', async () => {
    const hook = receiver.answer('/gone', () => ({ status: 410 }));
    const first = await failingJob(hook);
    expect((await deliveriesUntil(`job_id=${first}`, (l) => l.length > 0))[0]).toMatchObject({ status: 'gone', response_status: 410, next_attempt_at: null });
    const second = await failingJob(hook);
    expect((await deliveriesUntil(`job_id=${second}`, (l) => l.length > 0))[0]).toMatchObject({ status: 'skipped', response_status: null });
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    const hook = receiver.answer('/busy', (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const id = await failingJob(hook);
    const [first, second] = await receiver.waitFor('/busy', 2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    const list = await deliveriesUntil(`job_id=${id}`, (l) => l.length === 2);
    expect(list.map((d) => [d.status, d.response_status])).toEqual([
      ['delivered', 200],
      ['retrying', 429],
    ]);
  });

  it('does not follow a redirect', async () => {
    const target = receiver.answer('/moved-here', () => ({ status: 200 }));
    const hook = receiver.answer('/moved', () => ({ status: 302, headers: { location: target } }));
    const id = await failingJob(hook);
    const [delivery] = await deliveriesUntil(`job_id=${id}`, (l) => l.length > 0);
    expect(delivery).toMatchObject({ status: 'failed', response_status: 302, attempt: 1 });
    expect(delivery.error).toContain('redirects are not followed');
    expect(receiver.at('/moved')).toHaveLength(1);
    expect(receiver.at('/moved-here')).toHaveLength(0);
  });

  it('checks the address again at delivery: a host name that resolves to a private address is refused', async () => {
    // a host name passes the creation check (https, not an IP literal); only resolving it shows where it points
    const name = hostname();
    const { address } = await lookup(name);
    expect(ipaddr.process(address).range(), `${name} resolves to ${address}`).not.toBe('unicast');
    expect(address).not.toBe(RECEIVER_HOST);
    const id = await failingJob(`https://${name}:${new URL(receiver.url).port}/private`);
    const [delivery] = await deliveriesUntil(`job_id=${id}`, (l) => l.length > 0);
    expect(delivery).toMatchObject({ status: 'failed', response_status: null, attempt: 1 });
    expect(delivery.error).toContain(`resolves to ${address}`);
    expect(receiver.at('/private')).toHaveLength(0);
  });

  it('redelivers an event with its original id and body', async () => {
    const secret = await secretOf();
    const hook = receiver.answer('/again', () => ({ status: 200 }));
    const id = await failingJob(hook);
    const [original] = await receiver.waitFor('/again', 1);
    const [delivery] = await deliveriesUntil(`job_id=${id}`, (l) => l.length > 0);
    const redelivered = await call('POST', `/v1/webhooks/deliveries/${delivery.id}/redeliver`);
    expect(redelivered).toMatchObject({ status: 202, body: { event_id: original?.headers['webhook-id'], type: 'job.failed', status: 'queued' } });
    const [, again] = await receiver.waitFor('/again', 2);
    expect(again?.headers['webhook-id']).toBe(original?.headers['webhook-id']);
    expect(again?.body).toBe(original?.body);
    verify(secret, again as Received);
    const list = await deliveriesUntil(`job_id=${id}`, (l) => l.length === 2);
    expect(list.every((d) => d.status === 'delivered' && d.event_id === delivery.event_id)).toBe(true);
  });

  it('sends job.canceled from the API, and a new one when the retried job is canceled again', async () => {
    const secret = await secretOf();
    const hook = receiver.answer('/canceled', () => ({ status: 200 }));
    const id = await createJob({ images: [imageUrl], options: SMALL, webhook_url: hook });
    expect((await call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    const [first] = await receiver.waitFor('/canceled', 1);
    expect(verify(secret, first as Received)).toMatchObject({ type: 'job.canceled', data: { id, status: 'canceled' } });
    // the job as it was when it was canceled (a worker that was running it may still write its stage until it stops)
    expect(first?.event.data.finished_at).toBe((await call('GET', `/v1/jobs/${id}`)).body.finished_at);
    expect(first?.headers['webhook-id']).toMatch(new RegExp(`^evt_${id.slice(4)}_canceled_\\d+_\\d+$`));

    for (let retried = false; !retried; ) {
      const retry = await call('POST', `/v1/jobs/${id}/retry`);
      retried = retry.status === 200; // 409 while its worker is still stopping it
      if (!retried) await new Promise((r) => setTimeout(r, 50));
    }
    expect((await call('POST', `/v1/jobs/${id}/cancel`)).status).toBe(200);
    const [, second] = await receiver.waitFor('/canceled', 2);
    expect(second?.event).toMatchObject({ type: 'job.canceled', data: { id, status: 'canceled' } });
    expect(second?.headers['webhook-id']).not.toBe(first?.headers['webhook-id']);
  });

  it('sends one batch.completed (its default event) for a batch of 20, with the batch exactly as GET returns it', async () => {
    const secret = await secretOf();
    const hook = receiver.answer('/batch', () => ({ status: 200 }));
    const missing = `${receiver.url}/missing.jpg`;
    const response = await fetch(`${service.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: Array.from({ length: 20 }, () => ({ images: [missing] })), webhook_url: hook }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const [completed] = await receiver.waitFor('/batch', 1);
    expect(verify(secret, completed as Received)).toMatchObject({ type: 'batch.completed', data: { id, status: 'failed', counts: { failed: 20 } } });
    expect(completed?.headers['webhook-id']).toBe(`evt_${id.slice(4)}_completed`);
    expect(completed?.event.data).toEqual((await call('GET', `/v1/batches/${id}`)).body);
    const list = await deliveriesUntil(`batch_id=${id}`, (l) => l.length > 0);
    expect(list.map((d) => [d.type, d.status, d.job_id])).toEqual([['batch.completed', 'delivered', null]]);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/batch')).toHaveLength(1);
  });

  it("rotates a tenant's secret: signed with both for the overlap; tenants see only their own deliveries", async () => {
    const before = await secretOf(KEY_B);
    expect(before).not.toBe(await secretOf(KEY_A));
    const rotated = await call('POST', '/v1/webhooks/secret/rotate', KEY_B);
    expect(rotated.status).toBe(200);
    const after = rotated.body.secret as string;
    expect(after).not.toBe(before);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);
    expect((await call('GET', '/v1/webhooks/secret', KEY_B)).body).toEqual(rotated.body);

    const hook = receiver.answer('/rotated', () => ({ status: 200 }));
    const id = await failingJob(hook, KEY_B);
    const [delivery] = await receiver.waitFor('/rotated', 1);
    expect(verify(after, delivery as Received)).toMatchObject({ type: 'job.failed', data: { id } });
    expect(verify(before, delivery as Received)).toMatchObject({ type: 'job.failed', data: { id } });
    const otherTenants = await secretOf(KEY_A);
    expect(() => verify(otherTenants, delivery as Received)).toThrow(/No matching signature/);
    expect(delivery?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(2);

    const [own] = await deliveriesUntil(`job_id=${id}`, (l) => l.length > 0, KEY_B);
    expect((await call('GET', `/v1/webhooks/deliveries?job_id=${id}`, KEY_A)).body.data).toEqual([]);
    expect((await call('POST', `/v1/webhooks/deliveries/${own.id}/redeliver`, KEY_A)).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/deliveries/whd_01aaaaaaaaaaaaaaaaaaaaaaaa/redeliver`, KEY_B)).status).toBe(404);
  });
});
