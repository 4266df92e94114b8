import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/shared/jobs/job-record.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const OPTIONS = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
/** the stages a batch item works in its batch's session turn */
const IN_TURN = new Set(['connecting', 'uploading', 'instructing']);

const engineFaults = (service: TestService, faults: unknown) =>
  fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });

async function postBatch(service: TestService, photos: PhotoServer, items: number, key: string): Promise<{ id: string; job_ids: string[] }> {
  const response = await fetch(`${service.url}/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ items: Array.from({ length: items }, (_, n) => ({ images: [photos.photo(`a-${n}`)], options: OPTIONS })) }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; job_ids: string[] };
}

async function postOne(service: TestService, photos: PhotoServer, key: string): Promise<{ id: string; created_at: string }> {
  const response = await postJob(service.url, { images: [photos.photo('b')], options: OPTIONS }, key);
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; created_at: string };
}

const startedMs = (job: JobRecord | undefined) => Date.parse(job?.startedAt ?? '');

describe('batch items wait for their session turn without holding a worker slot', () => {
  let service: TestService;
  let photos: PhotoServer;
  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true }, env: { API_KEYS: 'shop-a=key-a,shop-b=key-b', WORKER_CONCURRENCY: '2' } });
    photos = await startPhotoServer(service.dir);
  });
  afterAll(async () => {
    photos?.close();
    await service?.close();
  });

  it("lets another tenant's job run while a batch's items take turns, and no item shows running while it only waits", async () => {
    // every instruction takes a while, so the items queue up for the session's turn
    await engineFaults(service, { kind: 'slow-agent', seconds: 1, times: 4 });
    const batch = await postBatch(service, photos, 4, 'key-a');
    const single = await postOne(service, photos, 'key-b');
    const ids = [...batch.job_ids, single.id];
    const seen: string[] = [];
    let jobs: JobRecord[] = [];
    for (;;) {
      jobs = await service.records.getMany(ids);
      const items = jobs.filter((job) => job.batchId === batch.id);
      // a running item is either working in the session's turn (one at a time) or rendering/storing: never waiting
      for (const job of items) if (job.status === 'running' && job.stage === 'queued') seen.push(`${job.id} running while still queued`);
      const inTurn = items.filter((job) => job.status === 'running' && IN_TURN.has(job.stage));
      if (inTurn.length > 1) seen.push(`${inTurn.length} items in the session's turn at once: ${inTurn.map((j) => j.stage).join(', ')}`);
      if (jobs.every((job) => !['queued', 'running'].includes(job.status))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toEqual([]);
    expect(jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const lastItem = Math.max(...jobs.filter((job) => job.batchId === batch.id).map(startedMs));
    expect(startedMs(jobs.find((job) => job.id === single.id))).toBeLessThan(lastItem);
    // waiting used up no attempt
    expect(jobs.map((job) => job.attempts)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe("fairness with real renders: tenant A's 500 queued items, then tenant B's one job", () => {
  let service: TestService;
  let photos: PhotoServer;
  const concurrency = 2;
  beforeAll(async () => {
    service = await startTestService({ env: { API_KEYS: 'shop-a=key-a,shop-b=key-b', WORKER_CONCURRENCY: String(concurrency) } });
    photos = await startPhotoServer(service.dir);
  });
  afterAll(async () => {
    photos?.close();
    await service?.close();
  });

  it("starts B's job before more than one slot's worth of A's items started after it was submitted", async () => {
    const batch = await postBatch(service, photos, 500, 'key-a');
    const single = await postOne(service, photos, 'key-b');
    expect((await waitForJob(service.url, single.id, 'key-b', 60_000)).status).toBe('succeeded');
    const b = await service.records.get(single.id);
    const submittedMs = Date.parse(single.created_at);
    const items = await service.records.getMany(batch.job_ids);
    const startedBetween = items.filter((job) => startedMs(job) >= submittedMs && startedMs(job) <= startedMs(b)).length;
    expect(startedBetween).toBeLessThanOrEqual(concurrency);
    // A's items are still waiting their turn: the batch did not have to drain first
    expect(items.filter((job) => job.status === 'queued').length).toBeGreaterThan(400);
    const canceled = await fetch(`${service.url}/v1/batches/${batch.id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer key-a' } });
    expect(canceled.status).toBe(200);
  });
});
