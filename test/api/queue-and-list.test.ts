import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

interface Job {
  id: string;
  status: string;
  queue_position: number | null;
  metadata: Record<string, string>;
}

describe('listing, filtering, queue positions and cancelling queued jobs (no worker running)', () => {
  let service: TestService;
  const ids: string[] = [];
  const acceptedPositions: (number | null)[] = [];
  const get = (path: string, key = 'key-a') => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    service = await startTestService({ worker: false, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b' } });
    for (let i = 0; i < 5; i++) {
      const response = await postJob(service.url, { images: [`https://shop.example/${i}.jpg`], metadata: { sku: `S-${i}`, shop: i % 2 ? 'odd' : 'even' } }, 'key-a');
      const job = (await response.json()) as Job;
      ids.push(job.id);
      acceptedPositions.push(job.queue_position);
    }
    // low: tenants take turns within a priority class, so a normal job of shop-b would go second in line
    await postJob(service.url, { images: ['https://shop.example/b.jpg'], priority: 'low' }, 'key-b');
  });
  afterAll(async () => service?.close());

  it('tells each queued job its place in line', async () => {
    const positions = await Promise.all(ids.map(async (id) => ((await (await get(`/v1/jobs/${id}`)).json()) as Job).queue_position));
    expect(positions).toEqual([0, 1, 2, 3, 4]);
    // the 202 of each said so already: the jobs ahead of it when it was added
    expect(acceptedPositions).toEqual([0, 1, 2, 3, 4]);
  });

  it("lists the tenant's jobs newest first, pages with a cursor and filters by status and metadata", async () => {
    const page1 = (await (await get('/v1/jobs?limit=2')).json()) as { data: Job[]; next_cursor: string | null };
    expect(page1.data.map((j) => j.id)).toEqual([ids[4], ids[3]]);
    expect(page1.next_cursor).toBe(ids[3]);
    const page2 = (await (await get(`/v1/jobs?limit=2&cursor=${page1.next_cursor}`)).json()) as { data: Job[]; next_cursor: string | null };
    expect(page2.data.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const page3 = (await (await get(`/v1/jobs?limit=2&cursor=${page2.next_cursor}`)).json()) as { data: Job[]; next_cursor: string | null };
    expect(page3.data.map((j) => j.id)).toEqual([ids[0]]);
    expect(page3.next_cursor).toBeNull();

    const odd = (await (await get('/v1/jobs?metadata.shop=odd')).json()) as { data: Job[] };
    expect(odd.data.map((j) => j.metadata.sku)).toEqual(['S-3', 'S-1']);
    const none = (await (await get('/v1/jobs?status=succeeded')).json()) as { data: Job[] };
    expect(none.data).toEqual([]);
    const otherTenant = (await (await get('/v1/jobs', 'key-b')).json()) as { data: Job[] };
    expect(otherTenant.data).toHaveLength(1);
    expect(ids).not.toContain(otherTenant.data[0]?.id);

    expect((await get('/v1/jobs?colour=red')).status).toBe(400);
    expect((await get('/v1/jobs?limit=1000')).status).toBe(400);
  });

  it('cancels a queued job (it leaves the line), and answers 409 to cancelling it again', async () => {
    const id = ids[1] as string;
    const canceled = await fetch(`${service.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(canceled.status).toBe(200);
    expect(await canceled.json()).toMatchObject({ status: 'canceled', queue_position: null });
    const after = ((await (await get(`/v1/jobs/${ids[2]}`)).json()) as Job).queue_position;
    expect(after).toBe(1);
    const again = await fetch(`${service.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'job_finished' });
    const cancelledList = (await (await get('/v1/jobs?status=canceled')).json()) as { data: Job[] };
    expect(cancelledList.data.map((j) => j.id)).toEqual([id]);
  });

  it('answers 409 to retrying a job that has not failed', async () => {
    const response = await fetch(`${service.url}/v1/jobs/${ids[0]}/retry`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'not_retryable' });
  });

  it("hides every route of a job from another tenant with 404", async () => {
    const id = ids[0] as string;
    for (const [method, path] of [
      ['GET', `/v1/jobs/${id}`], ['GET', `/v1/jobs/${id}/video`], ['GET', `/v1/jobs/${id}/poster`], ['GET', `/v1/jobs/${id}/events`],
      ['POST', `/v1/jobs/${id}/cancel`], ['POST', `/v1/jobs/${id}/retry`],
    ] as const) {
      const response = await fetch(`${service.url}${path}`, { method, headers: { authorization: 'Bearer key-b' } });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'not_found' });
    }
  });

  it('answers readiness and serves its API reference without a key', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', redis: true, backend: true });
    const docs = await fetch(`${service.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const spec = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}/events', '/v1/uploads', '/readyz']));
  });
});
