import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { expireOldFiles, type RetentionDeps } from '../../src/workers/retention.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

function retentionDeps(service: TestService): RetentionDeps {
  return { records: service.records, uploads: service.uploadFiles, storage: service.storage, logger: createLogger({ level: 'silent' }) };
}

async function postPhotoJob(service: TestService, photo: Blob): Promise<string> {
  const form = new FormData();
  form.append('images', photo, 'p.jpg');
  form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
  const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
  expect(created.status).toBe(202);
  return ((await created.json()) as { id: string }).id;
}

async function stored(service: TestService, jobId: string): Promise<Record<string, number | undefined>> {
  const record = await service.records.get(jobId);
  const keys = [...(record?.inputs ?? []).flatMap((input) => (input.kind === 'file' ? [input.key] : [])), `outputs/${jobId}/video.mp4`, `outputs/${jobId}/poster.jpg`];
  return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await service.storage.size(key)] as const)));
}

describe('retention deletes the files of jobs that ended long enough ago', () => {
  let service: TestService;
  let photo: Blob;

  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true, noTextRate: 0 } });
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('expires an old job (files gone, record kept and marked, files answer 410) and leaves a recent and a running job alone', async () => {
    // the running job is the oldest of the three: it was created before either of the others ended
    await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'render-delay', seconds: 60, times: 1 }) });
    const running = await postPhotoJob(service, photo);
    for (let job = await service.records.get(running); !job?.checkpoint.renderStartedAt; job = await service.records.get(running)) await new Promise((r) => setTimeout(r, 20));
    const old = await waitForJob(service.url, await postPhotoJob(service, photo));
    const recent = await waitForJob(service.url, await postPhotoJob(service, photo));
    expect([old.status, recent.status]).toEqual(['succeeded', 'succeeded']);
    const [oldEnd, recentEnd] = [Date.parse(old.finished_at), Date.parse(recent.finished_at)];
    expect(recentEnd).toBeGreaterThan(oldEnd);

    // as if it were now a moment after the recent job ended, with a retention that reaches back between the two ends
    const now = recentEnd + 1000;
    const retentionMs = now - (oldEnd + recentEnd) / 2;
    const runningFiles = await stored(service, running);
    const recentFiles = await stored(service, recent.id);
    const oldFiles = await stored(service, old.id);
    expect(Object.values(oldFiles).every((size) => size && size > 0)).toBe(true);

    const run = await expireOldFiles(retentionDeps(service), retentionMs, now);
    expect(run).toEqual({ jobs: [old.id], uploads: [] });

    expect(Object.values(await stored(service, old.id))).toEqual(Object.values(oldFiles).map(() => undefined));
    expect(await stored(service, recent.id)).toEqual(recentFiles);
    expect(await stored(service, running)).toEqual(runningFiles);
    expect((await service.records.get(running))?.status).toBe('running');

    const view = (await (await fetch(`${service.url}/v1/jobs/${old.id}`, { headers: auth })).json()) as Record<string, any>;
    expect(view).toMatchObject({ status: 'succeeded', finished_at: old.finished_at, expired_at: new Date(now).toISOString(), result: { width: 720, height: 720 } });
    for (const file of ['video', 'poster']) {
      const gone = await fetch(`${service.url}/v1/jobs/${old.id}/${file}`, { headers: auth });
      expect(gone.status).toBe(410);
      expect(gone.headers.get('content-type')).toContain('application/problem+json');
      expect(await gone.json()).toMatchObject({ status: 410, code: 'expired' });
    }
    const revise = await fetch(`${service.url}/v1/jobs/${old.id}/revisions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'slower' }) });
    expect(revise.status).toBe(410);
    expect(((await revise.json()) as { code: string }).code).toBe('expired');

    const recentView = (await (await fetch(`${service.url}/v1/jobs/${recent.id}`, { headers: auth })).json()) as Record<string, any>;
    expect(recentView.expired_at).toBeNull();
    expect((await fetch(recentView.result.video_url, { headers: auth })).status).toBe(200);

    // a second run finds nothing more to do
    expect(await expireOldFiles(retentionDeps(service), retentionMs, now)).toEqual({ jobs: [], uploads: [] });

    // the running job, canceled now, is kept until its own end is old enough
    expect((await fetch(`${service.url}/v1/jobs/${running}/cancel`, { method: 'POST', headers: auth })).status).toBe(200);
    expect((await expireOldFiles(retentionDeps(service), retentionMs, now)).jobs).toEqual([]);
    expect((await expireOldFiles(retentionDeps(service), 1000, Date.now() + 2000)).jobs.sort()).toEqual([recent.id, running].sort());
    // a canceled job could be retried, but not once its inputs are gone
    const retry = await fetch(`${service.url}/v1/jobs/${running}/retry`, { method: 'POST', headers: auth });
    expect(retry.status).toBe(410);
    expect(((await retry.json()) as { code: string }).code).toBe('expired');
    expect((await service.records.get(running))?.status).toBe('canceled');
  });

  it('a retried job is not expired by the time of its earlier end', async () => {
    await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'render-delay', seconds: 60, times: 1 }) });
    const id = await postPhotoJob(service, photo);
    for (let job = await service.records.get(id); !job?.checkpoint.renderStartedAt; job = await service.records.get(id)) await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(`${service.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: auth })).status).toBe(200);
    const canceled = await waitForJob(service.url, id);
    expect(canceled.status).toBe('canceled');
    const canceledEnd = Date.parse(canceled.finished_at);
    // the worker stops the job after the cancel (it cancels the render at the engine first): a retry meanwhile is told to come back
    let retry = await fetch(`${service.url}/v1/jobs/${id}/retry`, { method: 'POST', headers: auth });
    while (retry.status === 409 && ((await retry.json()) as { title: string }).title === 'Job still stopping') {
      await new Promise((r) => setTimeout(r, 20));
      retry = await fetch(`${service.url}/v1/jobs/${id}/retry`, { method: 'POST', headers: auth });
    }
    expect(retry.status).toBe(200);
    // queued or running again: not due, however old its first end
    expect((await expireOldFiles(retentionDeps(service), 1, Date.now())).jobs).toEqual([]);
    const retried = await waitForJob(service.url, id);
    expect(retried.status).toBe('succeeded');
    // a cutoff after the first end but before the second: the job is no longer due
    const retriedEnd = Date.parse(retried.finished_at);
    expect((await expireOldFiles(retentionDeps(service), retriedEnd - canceledEnd, retriedEnd)).jobs).toEqual([]);
    expect(await service.storage.size(`outputs/${id}/video.mp4`)).toBeGreaterThan(0);
    expect((await expireOldFiles(retentionDeps(service), 0, retriedEnd + 1)).jobs).toEqual([id]);
  });

  it('deletes uploads once retention has passed, never within the 24 h they can be used', async () => {
    const form = new FormData();
    form.append('file', photo, 'front.jpg');
    const created = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
    expect(created.status).toBe(201);
    const upload = ((await created.json()) as { data: { id: string }[] }).data[0] as { id: string };
    const key = `uploads/${upload.id}.jpg`;
    expect(await service.storage.size(key)).toBeGreaterThan(0);

    expect((await expireOldFiles(retentionDeps(service), 1, Date.now())).uploads).toEqual([]);
    expect(await service.storage.size(key)).toBeGreaterThan(0);

    const dayAndAnHour = 25 * 3600 * 1000;
    expect((await expireOldFiles(retentionDeps(service), 1, Date.now() + dayAndAnHour)).uploads).toEqual([key]);
    expect(await service.storage.size(key)).toBeUndefined();
  });
});

describe('the retention job scheduler', () => {
  let service: TestService;

  beforeAll(async () => {
    // about 1.7 s of retention, looked at every half second
    service = await startTestService({ env: { RETENTION_DAYS: '0.00002', RETENTION_INTERVAL_S: '0.5' } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('runs on the workers and expires a finished job by itself', async () => {
    const photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
    const id = await postPhotoJob(service, photo);
    const done = await waitForJob(service.url, id);
    expect(done.status).toBe('succeeded');
    let job = done;
    for (const deadline = Date.now() + 20_000; !job.expired_at && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      job = (await (await fetch(`${service.url}/v1/jobs/${id}`, { headers: auth })).json()) as Record<string, any>;
    }
    expect(job.expired_at).not.toBeNull();
    expect(Date.parse(job.expired_at) - Date.parse(job.finished_at)).toBeGreaterThanOrEqual(1700);
    expect(await service.storage.size(`outputs/${id}/video.mp4`)).toBeUndefined();
    expect((await fetch(`${service.url}/v1/jobs/${id}/video`, { headers: auth })).status).toBe(410);
  });
});
