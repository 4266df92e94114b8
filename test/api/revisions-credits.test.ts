import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecords } from '../../src/shared/jobs/job-record.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key', 'content-type': 'application/json' };

describe('revisions and credits', () => {
  let service: TestService;
  let records: JobRecords;
  let photo: Blob;

  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true, noTextRate: 0 }, env: { CREDITS_REFRESH_S: '0.2', JOB_BACKOFF_MS: '50' } });
    records = service.records;
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    await service?.close();
  });

  async function parentJob(): Promise<Record<string, any>> {
    const form = new FormData();
    form.append('images', photo, 'shoe.jpg');
    form.append('options', JSON.stringify({ duration_s: 3, aspect_ratio: '1:1', resolution: '720p', text: [{ text: 'Summer Sale', start_s: 0, end_s: 2 }] }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    return waitForJob(service.url, ((await created.json()) as { id: string }).id);
  }
  const revise = (id: string, body: unknown) => fetch(`${service.url}/v1/jobs/${id}/revisions`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  it('changes the timeline in the same session and keeps the rest', async () => {
    const parent = await parentJob();
    expect(parent.result.timeline_summary).toContain('"Summer Sale"');
    const created = await revise(parent.id, { prompt: 'change the text to "Winter Sale"' });
    expect(created.status).toBe(202);
    const revision = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(revision).toMatchObject({ status: 'succeeded', parent_id: parent.id, result: { width: 720, height: 720, duration_s: 3 } });
    expect(revision.result.timeline_summary).toContain('"Winter Sale" (0-2s)');
    expect(revision.result.timeline_summary).not.toContain('Summer');
    expect((await records.get(revision.id))?.checkpoint.sessionId).toBe((await records.get(parent.id))?.checkpoint.sessionId);
  });

  it('rebuilds the timeline from the parent when the backend lost the session', async () => {
    const parent = await parentJob();
    await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'forget-sessions' }) });
    const created = await revise(parent.id, { prompt: 'change the text to "Autumn Sale"', options: { aspect_ratio: '16:9' } });
    const revision = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    // 16:9 at the parent's 720p: the replayed parent instruction set the resolution, the revision only the ratio
    expect(revision).toMatchObject({ status: 'succeeded', result: { width: 1280, height: 720, duration_s: 3 } });
    expect(revision.result.timeline_summary).toContain('"Autumn Sale" (0-2s)');
    expect((await records.get(revision.id))?.checkpoint.sessionId).not.toBe((await records.get(parent.id))?.checkpoint.sessionId);
  });

  it('refuses to revise a job that has not succeeded', async () => {
    const failed = await waitForJob(service.url, ((await (await postJob(service.url, { images: ['http://127.0.0.2/x.jpg'] })).json()) as { id: string }).id);
    expect(failed.status).toBe('failed');
    const response = await revise(failed.id, { prompt: 'slower' });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'not_revisable' });
  });

  it("shows the backend's balance falling as jobs run, and each job's credits", async () => {
    const read = async () => (await (await fetch(`${service.url}/v1/credits`, { headers: auth })).json()) as { available: number; total: number; checked_at: string };
    const before = await read();
    const job = await parentJob();
    expect(job.result.credits_used).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    const after = await read();
    expect(after.available).toBe(before.available - 1);
    expect(after.total).toBe(after.available);
    expect(Date.parse(after.checked_at)).toBeGreaterThan(Date.parse(before.checked_at));
  });
});
