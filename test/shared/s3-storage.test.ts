import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../../src/shared/storage/s3-storage.ts';
import { startTestS3, type TestS3 } from '../helpers/s3.ts';

describe('S3 storage against a local S3-compatible server', () => {
  let s3: TestS3;
  let storage: S3Storage;
  let bucket: S3Client;

  beforeAll(async () => {
    s3 = await startTestS3();
    storage = new S3Storage({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, urlTtlS: 60, timeoutMs: 30_000 });
    bucket = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
  });
  afterAll(async () => {
    storage?.close();
    bucket?.destroy();
    await s3?.close();
  });

  async function keysInBucket(): Promise<string[]> {
    const page = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return (page.Contents ?? []).map((object) => object.Key as string).sort();
  }

  it('writes objects into the bucket under their keys, with the content type of their extension', async () => {
    await storage.write('outputs/job_a/video.mp4', Readable.from([Buffer.from('not really an mp4')]));
    await storage.write('outputs/job_a/poster.jpg', Readable.from([Buffer.from('not really a jpeg')]));
    expect(await keysInBucket()).toEqual(['outputs/job_a/poster.jpg', 'outputs/job_a/video.mp4']);
    const delivery = await storage.delivery('outputs/job_a/poster.jpg');
    const reply = await request((delivery as { url: string }).url);
    expect(reply.headers['content-type']).toBe('image/jpeg');
    expect(await reply.body.text()).toBe('not really a jpeg');
  });

  it('hands out a presigned GET URL for the key that needs no credentials and serves ranges', async () => {
    await storage.write('outputs/job_b/video.mp4', Readable.from([Buffer.from('0123456789abcdef')]));
    const delivery = await storage.delivery('outputs/job_b/video.mp4');
    if (delivery?.kind !== 'url') throw new Error(`expected a URL, got ${JSON.stringify(delivery)}`);
    expect(delivery.url.startsWith(`${s3.endpoint}/${s3.bucket}/outputs/job_b/video.mp4?`)).toBe(true);
    expect(new URL(delivery.url).searchParams.get('X-Amz-Expires')).toBe('60');

    const whole = await request(delivery.url);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(await whole.body.text()).toBe('0123456789abcdef');

    const part = await request(delivery.url, { headers: { range: 'bytes=4-9' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 4-9/16');
    expect(await part.body.text()).toBe('456789');

    // s3rver serves anonymous requests and does not check V4 signatures (only their expiry, below), so what a
    // signature protects cannot be checked here; real S3 and MinIO refuse a changed or unsigned URL.
  });

  it('stops honouring a presigned URL once it has expired', async () => {
    const shortLived = new S3Storage({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, urlTtlS: 1, timeoutMs: 30_000 });
    await shortLived.write('outputs/job_c/video.mp4', Readable.from([Buffer.from('soon gone')]));
    const delivery = (await shortLived.delivery('outputs/job_c/video.mp4')) as { url: string };
    const fresh = await request(delivery.url);
    expect(fresh.statusCode).toBe(200);
    await fresh.body.dump();
    await sleep(2200);
    const late = await request(delivery.url);
    expect(late.statusCode).toBe(403);
    expect(await late.body.text()).toContain('expired');
    shortLived.close();
  });

  it('deletes a prefix with list + DeleteObjects, page by page', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `inputs/job_many/${i}.jpg`);
    await Promise.all(keys.map((key) => storage.write(key, Readable.from([Buffer.from(key)]))));
    await storage.write('inputs/job_many2/0.jpg', Readable.from([Buffer.from('kept')]));
    await storage.remove('inputs/job_many');
    expect((await keysInBucket()).filter((key) => key.startsWith('inputs/'))).toEqual(['inputs/job_many2/0.jpg']);
  });

  it('fails a write to a bucket that does not exist, leaving the source unread', async () => {
    const nowhere = new S3Storage({ bucket: 'no-such-bucket', region: 'us-east-1', endpoint: s3.endpoint, urlTtlS: 60, timeoutMs: 30_000 });
    await expect(nowhere.write('outputs/job_d/video.mp4', Readable.from([Buffer.from('x')]))).rejects.toThrow(/bucket/i);
    nowhere.close();
  });

  it('gives up on an S3 peer that accepts connections and never answers, instead of holding the caller', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // reads the request, never writes a byte back
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const halfOpen = new S3Storage({ bucket: s3.bucket, region: 'us-east-1', endpoint, urlTtlS: 60, timeoutMs: 500 });
    try {
      await expect(halfOpen.size('outputs/job_h/video.mp4')).rejects.toThrow();
      await expect(halfOpen.write('outputs/job_h/video.mp4', Readable.from([Buffer.from('x')]))).rejects.toThrow();
    } finally {
      halfOpen.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
