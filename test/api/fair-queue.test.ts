import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

interface Job {
  id: string;
  priority: string;
  queue_position: number | null;
}

const postBatch = (service: TestService, body: unknown, key: string) =>
  fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const getJob = async (service: TestService, id: string, key: string) =>
  (await (await fetch(`${service.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Job;

describe('fair scheduling: tenants take turns, priority classes come first (no worker running)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b,shop-c=key-c' } });
  });
  afterAll(async () => service?.close());

  it("puts another tenant's first job right behind the first of a 500-item batch", async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ images: [`https://shop.example/${i}.jpg`] }));
    const batch = (await (await postBatch(service, { items }, 'key-a')).json()) as { job_ids: string[] };
    const accepted = await postJob(service.url, { images: ['https://shop.example/b.jpg'] }, 'key-b');
    expect(accepted.status).toBe(202);
    const b = (await accepted.json()) as Job;
    expect(b.queue_position).toBe(1);
    expect((await getJob(service, b.id, 'key-b')).queue_position).toBe(1);
    expect((await getJob(service, batch.job_ids[0] as string, 'key-a')).queue_position).toBe(0);
    expect((await getJob(service, batch.job_ids[1] as string, 'key-a')).queue_position).toBe(2);
    expect((await getJob(service, batch.job_ids[499] as string, 'key-a')).queue_position).toBe(500);
  });

  it('runs high before normal before low, whatever the tenant has queued, and shows the priority', async () => {
    const low = (await (await postJob(service.url, { images: ['https://shop.example/l.jpg'], priority: 'low' }, 'key-c')).json()) as Job;
    const normal = (await (await postJob(service.url, { images: ['https://shop.example/n.jpg'] }, 'key-c')).json()) as Job;
    const high = (await (await postJob(service.url, { images: ['https://shop.example/h.jpg'], priority: 'high' }, 'key-c')).json()) as Job;
    expect([low.priority, normal.priority, high.priority]).toEqual(['low', 'normal', 'high']);
    const positions = await Promise.all([high, normal, low].map(async (j) => (await getJob(service, j.id, 'key-c')).queue_position));
    // high first of all; normal is C's second queued job (rank 1): behind A's and B's rank-0 jobs and A's rank-1 item; low last
    expect(positions).toEqual([0, 4, 503]);
    expect((await postJob(service.url, { images: ['https://shop.example/x.jpg'], priority: 'urgent' }, 'key-c')).status).toBe(400);
  });
});

describe('queue limits: TENANT_MAX_QUEUED and QUEUE_MAX_WAITING', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b,shop-c=key-c', TENANT_MAX_QUEUED: '3', QUEUE_MAX_WAITING: '5' } });
  });
  afterAll(async () => service?.close());

  it("answers 429 tenant_queue_full with Retry-After past the tenant's queued jobs, still replays an Idempotency-Key, and counts a batch's items", async () => {
    const first = await postJob(service.url, { images: ['https://shop.example/0.jpg'] }, 'key-a', { 'idempotency-key': 'k-0' });
    expect(first.status).toBe(202);
    const firstId = ((await first.json()) as Job).id;
    const tooBig = await postBatch(service, { items: [{ images: ['https://shop.example/1.jpg'] }, { images: ['https://shop.example/2.jpg'] }, { images: ['https://shop.example/3.jpg'] }] }, 'key-a');
    expect(tooBig.status).toBe(429);
    expect(await tooBig.json()).toMatchObject({ code: 'tenant_queue_full' });
    const fits = await postBatch(service, { items: [{ images: ['https://shop.example/1.jpg'] }, { images: ['https://shop.example/2.jpg'] }] }, 'key-a');
    expect(fits.status).toBe(202);
    const over = await postJob(service.url, { images: ['https://shop.example/4.jpg'] }, 'key-a');
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await over.json()).toMatchObject({ code: 'tenant_queue_full', status: 429 });
    const replay = await postJob(service.url, { images: ['https://shop.example/0.jpg'] }, 'key-a', { 'idempotency-key': 'k-0' });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as Job).id).toBe(firstId);
    // a canceled job frees its place
    expect((await fetch(`${service.url}/v1/jobs/${firstId}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } })).status).toBe(200);
    expect((await postJob(service.url, { images: ['https://shop.example/5.jpg'] }, 'key-a')).status).toBe(202);
  });

  it('answers 503 queue_full with Retry-After once the queue holds QUEUE_MAX_WAITING jobs, for jobs and batches', async () => {
    expect((await postJob(service.url, { images: ['https://shop.example/b0.jpg'] }, 'key-b')).status).toBe(202);
    const batch = await postBatch(service, { items: [{ images: ['https://shop.example/c1.jpg'] }, { images: ['https://shop.example/c2.jpg'] }] }, 'key-c');
    expect(batch.status).toBe(503);
    expect(await batch.json()).toMatchObject({ code: 'queue_full' });
    // three of A's and two of B's: the queue holds five
    expect((await postJob(service.url, { images: ['https://shop.example/b1.jpg'] }, 'key-b')).status).toBe(202);
    const full = await postJob(service.url, { images: ['https://shop.example/b2.jpg'] }, 'key-b');
    expect(full.status).toBe(503);
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await full.json()).toMatchObject({ code: 'queue_full', status: 503 });
  });
});

describe("a retried job takes its place among the tenant's queued jobs now, not its old rank", () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: 'shop-a=key-a' } });
  });
  afterAll(async () => service?.close());

  it('queues a retry behind the jobs the tenant submitted since', async () => {
    const first = (await (await postJob(service.url, { images: ['https://shop.example/r0.jpg'] }, 'key-a')).json()) as Job;
    expect((await fetch(`${service.url}/v1/jobs/${first.id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } })).status).toBe(200);
    const later: Job[] = [];
    for (let n = 1; n <= 3; n++) later.push((await (await postJob(service.url, { images: [`https://shop.example/r${n}.jpg`] }, 'key-a')).json()) as Job);
    expect(later.map((job) => job.queue_position)).toEqual([0, 1, 2]);
    const retried = await fetch(`${service.url}/v1/jobs/${first.id}/retry`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(retried.status).toBe(200);
    // rank 3 (three of A's jobs queued): last, where a new job would go, not first with the rank it had when it was submitted
    expect((await getJob(service, first.id, 'key-a')).queue_position).toBe(3);
    expect((await service.records.get(first.id))?.queuePriority).toBe((await service.records.get(later[2]?.id as string))?.queuePriority as number + 1);
  });
});
