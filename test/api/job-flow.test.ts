import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

describe('a job followed through the API: uploads, Prefer: wait, files, cancel and retry', () => {
  let service: TestService;
  let photo: Buffer;
  let photoServer: Server;
  let photoUrl: string;
  let serving = false;

  beforeAll(async () => {
    service = await startTestService({ engine: { agentDelayMs: 0 } });
    photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 480, 360));
    photoServer = createServer((_req, res) => (serving ? res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
    photoUrl = `http://127.0.0.1:${(photoServer.address() as { port: number }).port}/p.jpg`;
  });
  afterAll(async () => {
    photoServer?.close();
    await service?.close();
  });

  it('makes a job from an upload reference and holds the reply until it is done with Prefer: wait', async () => {
    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'front.jpg');
    const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
    expect(uploaded.status).toBe(201);
    const [upload] = ((await uploaded.json()) as { data: { id: string; filename: string; content_type: string; size_bytes: number }[] }).data;
    expect(upload).toMatchObject({ filename: 'front.jpg', content_type: 'image/jpeg', size_bytes: photo.length });

    const response = await postJob(service.url, { images: [`upload:${upload?.id}`], options: SMALL, metadata: { sku: 'F-1' } }, 'dev-key', { prefer: 'wait=30' });
    expect(response.status).toBe(200);
    expect(response.headers.get('preference-applied')).toBe('wait=30');
    const job = (await response.json()) as Record<string, any>;
    expect(job).toMatchObject({ status: 'succeeded', metadata: { sku: 'F-1' }, result: { width: 720, height: 720 } });
    expect(job.result.timeline_summary).toContain('front.jpg');

    const missing = await postJob(service.url, { images: ['upload:upl_01aaaaaaaaaaaaaaaaaaaaaaaa'] });
    expect(missing.status).toBe(400);
  });

  it('serves the video with ranges, an ETag and conditional requests', async () => {
    const job = await waitForJob(service.url, ((await (await postJob(service.url, { images: [`upload:${await uploadOne()}`], options: SMALL })).json()) as { id: string }).id);
    const full = await fetch(job.result.video_url, { headers: auth });
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const etag = full.headers.get('etag') as string;
    const bytes = Buffer.from(await full.arrayBuffer());
    expect(bytes.length).toBe(job.result.size_bytes);

    const part = await fetch(job.result.video_url, { headers: { ...auth, range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(100, 200));

    // fetch() would add Cache-Control: no-cache to a conditional request (as the Fetch standard says), so ask plainly
    const unchanged = await request(job.result.video_url, { headers: { ...auth, 'if-none-match': etag } });
    await unchanged.body.dump();
    expect(unchanged.statusCode).toBe(304);
    const outside = await fetch(job.result.video_url, { headers: { ...auth, range: `bytes=${bytes.length + 10}-` } });
    expect(outside.status).toBe(416);
  });

  it('retries a failed job from its checkpoint once the cause is fixed', async () => {
    serving = false;
    const created = await postJob(service.url, { images: [photoUrl], options: SMALL });
    const failed = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'fetch_failed' } });
    serving = true;
    const retried = await fetch(`${service.url}/v1/jobs/${failed.id}/retry`, { method: 'POST', headers: auth });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ status: 'queued', error: null, finished_at: null });
    const done = await waitForJob(service.url, failed.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
  });

  async function uploadOne(): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'p.jpg');
    const response = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
    return ((await response.json()) as { data: { id: string }[] }).data[0]?.id as string;
  }
});
