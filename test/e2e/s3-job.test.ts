import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { expireOldFiles } from '../../src/workers/retention.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestS3, type TestS3 } from '../helpers/s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

describe('a job through the service with STORAGE=s3 (a local S3-compatible server)', () => {
  let s3: TestS3;
  let service: TestService;
  let bucket: S3Client;
  let photo: Blob;

  beforeAll(async () => {
    s3 = await startTestS3();
    service = await startTestService({ env: { ...s3.env, S3_URL_TTL_S: '120' } });
    bucket = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 640, 480))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    bucket?.destroy();
    await service?.close();
    await s3?.close();
  });

  async function keysInBucket(prefix: string): Promise<string[]> {
    const page = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((object) => object.Key as string).sort();
  }

  it('keeps inputs and outputs in the bucket and hands the MP4 out through a presigned URL', async () => {
    const form = new FormData();
    form.append('images', photo, 'photo.jpg');
    form.append('prompt', 'Animate this image with a slow zoom-in.');
    form.append('options', JSON.stringify({ duration_s: 2, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    expect(await keysInBucket(`inputs/${id}/`)).toEqual([`inputs/${id}/0.jpg`]);

    const job = await waitForJob(service.url, id);
    expect(job.status).toBe('succeeded');
    expect(await keysInBucket(`outputs/${id}/`)).toEqual([`outputs/${id}/poster.jpg`, `outputs/${id}/video.mp4`]);
    // nothing of the job on the local disk
    expect(await readdir(service.config.STORAGE_DIR).catch(() => [])).toEqual([]);

    // the API answers with a redirect to a presigned URL of the bucket
    const redirect = await request(job.result.video_url, { headers: auth });
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers['cache-control']).toBe('no-store');
    const location = redirect.headers.location as string;
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/outputs/${id}/video.mp4?`)).toBe(true);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('120');

    // which works without the API key, whole or by range
    const video = await request(location);
    expect(video.statusCode).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    const bytes = Buffer.from(await video.body.arrayBuffer());
    expect(bytes.length).toBe(job.result.size_bytes);
    const file = path.join(service.dir, `${id}.mp4`);
    await writeFile(file, bytes);
    const media = await probeMedia(file);
    expect(media.video).toMatchObject({ codec: 'h264', width: 720, height: 720, pixFmt: 'yuv420p' });
    expect(media.durationS).toBeCloseTo(2, 1);
    const head = await request(location, { headers: { range: 'bytes=0-7' } });
    expect(head.statusCode).toBe(206);
    expect(Buffer.from(await head.body.arrayBuffer()).subarray(4, 8).toString()).toBe('ftyp');

    // a client that follows redirects gets the file in one call (its Authorization header stays with the API)
    const followed = await fetch(job.result.poster_url, { headers: auth });
    expect(followed.status).toBe(200);
    expect(followed.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await followed.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('renders from an upload kept in the bucket, and retention deletes its job\'s objects', async () => {
    const form = new FormData();
    form.append('file', photo, 'front.jpg');
    const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
    const upload = ((await uploaded.json()) as { data: { id: string }[] }).data[0] as { id: string };
    expect(await keysInBucket('uploads/')).toContain(`uploads/${upload.id}.jpg`);

    const created = await fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ images: [`upload:${upload.id}`], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' } }),
    });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job.status).toBe('succeeded');
    expect(await keysInBucket(`outputs/${job.id}/`)).toHaveLength(2);

    const run = await expireOldFiles(
      { records: service.records, uploads: service.uploadFiles, storage: service.storage, logger: createLogger({ level: 'silent' }) },
      1000,
      Date.parse(job.finished_at) + 25 * 3600 * 1000,
    );
    expect(run.jobs).toContain(job.id);
    expect(run.uploads).toEqual([`uploads/${upload.id}.jpg`]);
    expect(await keysInBucket(`outputs/${job.id}/`)).toEqual([]);
    expect(await keysInBucket('uploads/')).toEqual([]);
    const gone = await fetch(job.result.video_url, { headers: auth });
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { code: string }).code).toBe('expired');
  });
});
