import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { expireOldFiles } from '../../src/workers/retention.ts';
import { makeSolidImage, makeTestImage } from '../helpers/media.ts';
import { startTestS3, type TestS3 } from '../helpers/s3.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const ADMIN_KEY = 'admin-key-for-the-render-cache-test';
/** small renders: 1 s at 720×720 */
const OPTIONS = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

/** What the engine has done so far: every render, session, instruction and token it has seen. */
async function engineWork(service: TestService) {
  const stats = (await (await fetch(`${service.engineUrl}/_engine/stats`)).json()) as { data: { tokens_issued: number; sessions: { instructions: number }[] } };
  const renders = (await (await fetch(`${service.engineUrl}/_engine/renders`)).json()) as { data: { renders: unknown[] } };
  return {
    renders: renders.data.renders.length,
    sessions: stats.data.sessions.length,
    instructions: stats.data.sessions.reduce((sum, s) => sum + s.instructions, 0),
    tokens: stats.data.tokens_issued,
  };
}

/** Submits a job with `photo` (uploaded with the job, so each job has its own stored input) and waits for its end. */
async function runJob(service: TestService, photo: Buffer, options: Record<string, unknown>, key = 'key-a'): Promise<Record<string, any>> {
  const form = new FormData();
  form.append('images', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
  form.append('prompt', 'A slow zoom on the product.');
  form.append('options', JSON.stringify(options));
  const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  expect(created.status).toBe(202);
  const { id } = (await created.json()) as { id: string };
  return waitForJob(service.url, id, key, 120_000);
}

async function download(url: string, key = 'key-a'): Promise<Buffer> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function cacheLookups(service: TestService, outcome: string): Promise<number> {
  const exposition = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const line = exposition.split('\n').find((l) => l.startsWith(`i2v_render_cache_lookups_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('the render cache (local storage)', () => {
  let service: TestService;
  let red: Buffer;
  let blue: Buffer;

  beforeAll(async () => {
    service = await startTestService({ engine: { faults: true }, env: { RENDER_CACHE: 'true', API_KEYS: 'shop-a=key-a,shop-b=key-b', ADMIN_KEY } });
    red = await readFile(await makeTestImage(path.join(service.dir, 'red.jpg'), 320, 240));
    blue = await readFile(await makeSolidImage(path.join(service.dir, 'blue.jpg'), 'blue'));
  });
  afterAll(async () => {
    await service?.close();
  });

  it('serves the same work again from the first job: nothing at the engine, the same video, result.cached', async () => {
    const first = await runJob(service, red, OPTIONS);
    expect(first.status).toBe('succeeded');
    expect(first.result.cached).toBe(false);
    const before = await engineWork(service);
    const hitsBefore = await cacheLookups(service, 'hit');

    // the same bytes uploaded again, the options written in another order
    const second = await runJob(service, Buffer.from(red), { resolution: '720p', aspect_ratio: '1:1', duration_s: 1, cache: true });
    expect(second.status).toBe('succeeded');
    expect(second.result).toMatchObject({ cached: true, credits_used: 0, width: 720, height: 720, size_bytes: first.result.size_bytes });
    // no token, session, upload, instruction or render at the engine
    expect(await engineWork(service)).toEqual(before);
    expect((await download(second.result.video_url)).equals(await download(first.result.video_url))).toBe(true);
    expect((await download(second.result.poster_url)).equals(await download(first.result.poster_url))).toBe(true);
    expect(await cacheLookups(service, 'hit')).toBe(hitsBefore + 1);

    // the cached job can be revised like the one it copies (it carries that job's session and timeline)
    const revised = await fetch(`${service.url}/v1/jobs/${second.id}/revisions`, {
      method: 'POST',
      headers: { authorization: 'Bearer key-a', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Add the text "New" at the top.' }),
    });
    expect(revised.status).toBe(202);
    const revision = await waitForJob(service.url, ((await revised.json()) as { id: string }).id, 'key-a', 120_000);
    expect(revision.status).toBe('succeeded');
    expect(revision.result.cached).toBe(false);
  });

  it('renders work that differs in an option or a photo byte, and the same work for another tenant', async () => {
    await runJob(service, red, { ...OPTIONS, aspect_ratio: '4:5' });
    const before = await engineWork(service);
    const jobs = [
      await runJob(service, red, { ...OPTIONS, aspect_ratio: '4:5', motion: 'pan-left' }),
      await runJob(service, blue, { ...OPTIONS, aspect_ratio: '4:5' }),
      await runJob(service, red, { ...OPTIONS, aspect_ratio: '4:5' }, 'key-b'),
    ];
    expect(jobs.map((job) => [job.status, job.result.cached])).toEqual([
      ['succeeded', false],
      ['succeeded', false],
      ['succeeded', false],
    ]);
    expect((await engineWork(service)).renders).toBe(before.renders + 3);
    // and the other tenant's own repeat is served from its own job
    const again = await runJob(service, red, { ...OPTIONS, aspect_ratio: '4:5' }, 'key-b');
    expect(again.result.cached).toBe(true);
    expect((await engineWork(service)).renders).toBe(before.renders + 3);
  });

  it('knows URL inputs by their bytes: another URL with the same picture is served, a URL whose picture changed renders', async () => {
    let served = red;
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(served));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const options = { ...OPTIONS, motion: 'pan-right' };
    const byUrl = async (url: string) => {
      const created = await postJob(service.url, { images: [url], prompt: 'A slow zoom on the product.', options }, 'key-a');
      expect(created.status).toBe(202);
      return waitForJob(service.url, ((await created.json()) as { id: string }).id, 'key-a', 120_000);
    };
    try {
      const first = await byUrl(`${base}/p/1.jpg`);
      const before = await engineWork(service);
      const sameBytes = await byUrl(`${base}/p/2.jpg`);
      expect([first.result.cached, sameBytes.result.cached]).toEqual([false, true]);
      expect((await engineWork(service)).renders).toBe(before.renders);
      served = blue;
      const changed = await byUrl(`${base}/p/1.jpg`);
      expect(changed.status).toBe('succeeded');
      expect(changed.result.cached).toBe(false);
      expect((await engineWork(service)).renders).toBe(before.renders + 1);
    } finally {
      server.close();
    }
  });

  it('with options.cache false renders, and neither reads nor writes the cache', async () => {
    const options = { ...OPTIONS, motion: 'zoom-in' };
    const before = await engineWork(service);
    const optedOut = await runJob(service, red, { ...options, cache: false });
    // nothing was written for it: the same work next renders
    const rendered = await runJob(service, red, options);
    // nothing is read for it: an entry exists now, and it renders anyway
    const optedOutAgain = await runJob(service, red, { ...options, cache: false });
    expect([optedOut, rendered, optedOutAgain].map((job) => [job.status, job.result.cached])).toEqual([
      ['succeeded', false],
      ['succeeded', false],
      ['succeeded', false],
    ]);
    expect((await engineWork(service)).renders).toBe(before.renders + 3);
    expect((await runJob(service, red, options)).result.cached).toBe(true);
  });

  it("keeps a cached job's video when the job it copied loses its files, and renders again once the entry's files are gone", async () => {
    const options = { ...OPTIONS, aspect_ratio: '16:9' };
    const first = await runJob(service, red, options);
    const video = await download(first.result.video_url);
    const cached = await runJob(service, red, options);
    expect(cached.result.cached).toBe(true);
    await service.storage.remove(`outputs/${first.id}`);
    expect((await download(cached.result.video_url)).equals(video)).toBe(true);

    // the entry points at the newest copy; with its files gone, the work is rendered again and the job succeeds
    await service.storage.remove(`outputs/${cached.id}`);
    const before = await engineWork(service);
    const staleBefore = await cacheLookups(service, 'stale');
    const rendered = await runJob(service, red, options);
    expect(rendered.status).toBe('succeeded');
    expect(rendered.result.cached).toBe(false);
    expect((await engineWork(service)).renders).toBe(before.renders + 1);
    expect(await cacheLookups(service, 'stale')).toBe(staleBefore + 1);
    expect((await download(rendered.result.video_url)).length).toBe(rendered.result.size_bytes);
  });

  it('renders again once retention has expired the job an entry points at', async () => {
    const options = { ...OPTIONS, aspect_ratio: '9:16' };
    const first = await runJob(service, red, options);
    expect(first.result.cached).toBe(false);
    const run = await expireOldFiles(
      { records: service.records, uploads: service.uploadFiles, storage: service.storage, logger: createLogger({ level: 'silent' }) },
      0,
      Date.now() + 1000,
    );
    expect(run.jobs).toContain(first.id);
    const before = await engineWork(service);
    const again = await runJob(service, red, options);
    expect(again.status).toBe('succeeded');
    expect(again.result.cached).toBe(false);
    expect((await engineWork(service)).renders).toBe(before.renders + 1);
  });
});

describe('the render cache with STORAGE=s3', () => {
  let s3: TestS3;
  let service: TestService;
  let photo: Buffer;

  beforeAll(async () => {
    s3 = await startTestS3();
    service = await startTestService({ engine: { faults: true }, env: { ...s3.env, RENDER_CACHE: 'true', API_KEYS: 'shop-a=key-a' } });
    photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240));
  });
  afterAll(async () => {
    await service?.close();
    await s3?.close();
  });

  it('copies the stored output in the bucket, which outlives the job it was copied from', async () => {
    const first = await runJob(service, photo, OPTIONS);
    const video = await download(first.result.video_url);
    const before = await engineWork(service);
    const cached = await runJob(service, photo, OPTIONS);
    expect(cached.result.cached).toBe(true);
    expect(await engineWork(service)).toEqual(before);
    expect(await service.storage.size(`outputs/${cached.id}/video.mp4`)).toBe(video.length);
    await service.storage.remove(`outputs/${first.id}`);
    expect((await download(cached.result.video_url)).equals(video)).toBe(true);

    await service.storage.remove(`outputs/${cached.id}`);
    const rendered = await runJob(service, photo, OPTIONS);
    expect(rendered.status).toBe('succeeded');
    expect(rendered.result.cached).toBe(false);
    expect((await engineWork(service)).renders).toBe(before.renders + 1);
  });
});
