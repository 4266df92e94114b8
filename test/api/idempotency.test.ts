import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

describe('Idempotency-Key on POST /v1/jobs', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b' } });
  });
  afterAll(async () => service?.close());

  const body = { images: ['https://shop.example/p/1.jpg'], metadata: { sku: 'A-1' } };

  it('returns the original job for a repeated request, and 409 for the same key with another body', async () => {
    const first = await postJob(service.url, body, 'key-a', { 'idempotency-key': 'order-17' });
    expect(first.status).toBe(202);
    const job = (await first.json()) as { id: string };
    const again = await postJob(service.url, body, 'key-a', { 'idempotency-key': 'order-17' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(job.id);

    const other = await postJob(service.url, { ...body, prompt: 'something else' }, 'key-a', { 'idempotency-key': 'order-17' });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: 'idempotency_conflict' });
  });

  it('resolves concurrent duplicates to one job, and keeps tenants apart', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, () => postJob(service.url, body, 'key-a', { 'idempotency-key': 'burst-1' })));
    const ids = new Set(await Promise.all(replies.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(11);

    const list = (await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: { authorization: 'Bearer key-a' } })).json()) as { data: { id: string }[] };
    expect(list.data.filter((j) => ids.has(j.id))).toHaveLength(1);

    const otherTenant = await postJob(service.url, body, 'key-b', { 'idempotency-key': 'burst-1' });
    expect(otherTenant.status).toBe(202);
    expect(ids.has(((await otherTenant.json()) as { id: string }).id)).toBe(false);
  });

  it('refuses a key longer than 255 characters', async () => {
    const response = await postJob(service.url, body, 'key-a', { 'idempotency-key': 'k'.repeat(256) });
    expect(response.status).toBe(400);
  });
});
