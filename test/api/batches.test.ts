import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

interface Batch {
  id: string;
  status: string;
  counts: Record<string, number>;
  completed_at: string | null;
  jobs: { id: string; status: string; result: { duration_s: number } | null; error: { code: string } | null }[];
}

describe('batches: a catalogue at a time', () => {
  let service: TestService;
  let photoServer: Server;
  let base: string;

  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true }, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b', JOB_BACKOFF_MS: '50', JOB_ATTEMPTS: '2' } });
    const photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240));
    photoServer = createServer((req, res) => (req.url?.startsWith('/p/') ? res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    photoServer?.close();
    await service?.close();
  });

  const post = (body: unknown, key = 'key-a', headers: Record<string, string> = {}) =>
    fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const get = async (id: string, key = 'key-a') => (await fetch(`${service.url}/v1/batches/${id}`, { headers: { authorization: `Bearer ${key}` } }));
  async function until(id: string, done: (b: Batch) => boolean): Promise<Batch> {
    for (let i = 0; i < 600; i++) {
      const batch = (await (await get(id)).json()) as Batch;
      if (done(batch)) return batch;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`batch ${id} did not finish`);
  }
  const item = (n: number, extra: Record<string, unknown> = {}) => ({
    images: [`${base}/p/${n}.jpg`],
    options: { duration_s: 1 + (n % 2), aspect_ratio: '1:1', resolution: '720p' },
    metadata: { sku: `S-${n}` },
    ...extra,
  });

  it('runs every item in one shared backend session, each with its own render and its own options', async () => {
    const before = (await (await fetch(`${service.engineUrl}/_engine/stats`)).json()) as { data: { sessions: { id: string }[] } };
    const created = await post({ items: Array.from({ length: 8 }, (_, n) => item(n)), metadata: { catalogue: 'summer' } }, 'key-a', { 'idempotency-key': 'cat-1' });
    expect(created.status).toBe(202);
    const { id, job_ids } = (await created.json()) as { id: string; job_ids: string[] };
    expect(job_ids).toHaveLength(8);

    const batch = await until(id, (b) => b.completed_at !== null);
    expect(batch).toMatchObject({ status: 'succeeded', counts: { succeeded: 8, failed: 0, queued: 0, running: 0, canceled: 0 } });
    expect(batch.jobs.map((j) => j.result?.duration_s)).toEqual(job_ids.map((_, n) => 1 + (n % 2)));

    const after = (await (await fetch(`${service.engineUrl}/_engine/stats`)).json()) as { data: { sessions: { id: string; instructions: number; renders: number }[] } };
    const known = new Set(before.data.sessions.map((s) => s.id));
    const sessions = after.data.sessions.filter((s) => !known.has(s.id));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ instructions: 8, renders: 8 });

    const replay = await post({ items: Array.from({ length: 8 }, (_, n) => item(n)), metadata: { catalogue: 'summer' } }, 'key-a', { 'idempotency-key': 'cat-1' });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { id: string }).id).toBe(id);
    expect((await get(id, 'key-b')).status).toBe(404);
  });

  it('reports a batch with a failed item as partially_failed, once every item has ended', async () => {
    const created = await post({ items: [item(1), { ...item(2), images: [`${base}/missing.jpg`] }] });
    const { id } = (await created.json()) as { id: string };
    const batch = await until(id, (b) => b.completed_at !== null);
    expect(batch).toMatchObject({ status: 'partially_failed', counts: { succeeded: 1, failed: 1 } });
    expect(batch.jobs[1]?.error?.code).toBe('fetch_failed');
  });

  it('cancels the items that have not ended, and still completes', async () => {
    await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'slow-agent', seconds: 2 }) });
    const { id } = (await (await post({ items: [item(1), item(2), item(3)] })).json()) as { id: string };
    const canceled = await fetch(`${service.url}/v1/batches/${id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(canceled.status).toBe(200);
    const batch = await until(id, (b) => b.completed_at !== null);
    expect(batch.status).toBe('canceled');
    expect(batch.counts.canceled).toBe(3);
  });

  it('refuses an empty batch and one over 500 items', async () => {
    expect((await post({ items: [] })).status).toBe(400);
    expect((await post({ items: Array.from({ length: 501 }, (_, n) => item(n)) })).status).toBe(400);
  });
});
