import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { grayFrame, makeTestImage, meanDifference } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

describe('a photo becomes an MP4 through the REST API, the worker and the embedded engine', () => {
  let service: TestService;
  let photo: string;
  let photoServer: Server;
  let photoUrl: string;

  beforeAll(async () => {
    service = await startTestService();
    photo = await makeTestImage(path.join(service.dir, 'photo.jpg'), 800, 600);
    photoServer = createServer((req, res) => {
      if (req.url !== '/photo.jpg') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      createReadStream(photo).pipe(res);
    });
    await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
    const address = photoServer.address() as { port: number };
    photoUrl = `http://127.0.0.1:${address.port}/photo.jpg`;
  });

  afterAll(async () => {
    photoServer?.close();
    await service?.close();
  });

  async function downloadVideo(job: Record<string, any>): Promise<string> {
    const response = await fetch(job.result.video_url, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const file = path.join(service.dir, `${job.id}.mp4`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    return file;
  }

  it('renders an uploaded photo (multipart) to a playable zoom-in MP4 of the asked size and duration', async () => {
    const form = new FormData();
    form.append('images', new Blob([await (await import('node:fs/promises')).readFile(photo)], { type: 'image/jpeg' }), 'photo.jpg');
    form.append('prompt', 'Animate this image with a slow zoom-in.');
    form.append('options', JSON.stringify({ duration_s: 2, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
    expect(created.status).toBe(202);
    const body = (await created.json()) as Record<string, any>;
    expect(created.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
    expect(body).toMatchObject({ status: 'queued', stage: 'queued', preset: 'motion' });

    const job = await waitForJob(service.url, body.id);
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ status: 'succeeded', stage: 'done', progress: 100 });
    expect(job.result).toMatchObject({ width: 720, height: 720 });
    expect(job.result.timeline_summary).toMatch(/^Timeline \(1 track\): 1\. Video: /);

    const file = await downloadVideo(job);
    const media = await probeMedia(file);
    expect(media.video).toMatchObject({ codec: 'h264', width: 720, height: 720, pixFmt: 'yuv420p' });
    expect(Math.abs(media.durationS - 2)).toBeLessThanOrEqual(0.1);
    expect(job.result.size_bytes).toBe(media.sizeBytes);
    const first = await grayFrame(file, 0);
    const last = await grayFrame(file, -0.05);
    expect(meanDifference(first, last)).toBeGreaterThan(2);

    const record = await service.records.get(job.id);
    expect(record?.checkpoint).toMatchObject({
      sessionId: expect.stringMatching(/^\d+$/),
      uploaded: [{ fileType: 'image', cdnUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) }],
      instruction: { text: expect.stringContaining('Duration: 2 seconds.'), completedAt: expect.any(String) },
      draft: { d: 2000, m: { width: 720, height: 720 } },
      renderId: `render_${job.id.slice(4)}`,
      renderOutputUrl: expect.stringContaining('.mp4'),
    });

    const poster = await fetch(job.result.poster_url, { headers: auth });
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await poster.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('renders a photo given by URL (JSON body), fetched by the worker', async () => {
    const created = await fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ images: [photoUrl], options: { duration_s: 1.5, aspect_ratio: '16:9', resolution: '720p' } }),
    });
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job.status).toBe('succeeded');
    const media = await probeMedia(await downloadVideo(job));
    expect(media.video).toMatchObject({ codec: 'h264', width: 1280, height: 720 });
    expect(Math.abs(media.durationS - 1.5)).toBeLessThanOrEqual(0.1);
  });

  it('fails a job whose image URL points at a private address that is not allow-listed', async () => {
    const created = await fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ images: [photoUrl.replace('127.0.0.1', '127.0.0.2')], options: { resolution: '720p' } }),
    });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'url_forbidden', retryable: false } });
    expect(job.error.message).toContain('127.0.0.2');
  });
});
