import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/infra/config.ts';
import { createStorage } from '../../src/shared/storage/create-storage.ts';
import { ObjectNotFoundError, type Storage } from '../../src/shared/storage/storage.ts';
import { startTestS3, type TestS3 } from '../helpers/s3.ts';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A source that sends `size` random bytes in 64 KiB chunks. */
function randomSource(size: number): { source: Readable; bytes: Buffer } {
  const bytes = randomBytes(size);
  const chunks: Buffer[] = [];
  for (let at = 0; at < size; at += 64 * 1024) chunks.push(bytes.subarray(at, at + 64 * 1024));
  return { source: Readable.from(chunks), bytes };
}

/** Fails once more than `limit` bytes have passed, like the pixel-limit check of uploads. */
function refuseAfter(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > limit ? new Error('refused') : null, chunk);
    },
  });
}

const backends = ['local', 's3'] as const;

describe.each(backends)('%s storage', (backend) => {
  let dir: string;
  let s3: TestS3 | undefined;
  let storage: Storage;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-storage-'));
    s3 = backend === 's3' ? await startTestS3() : undefined;
    storage = await createStorage(loadConfig({ STORAGE_DIR: dir, ...s3?.env }));
  });
  afterAll(async () => {
    storage?.close();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every byte of a stream through its checks, and reads it back whole or by range', async () => {
    const source = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
    const upper = new Transform({ transform: (chunk: Buffer, _e, done) => done(null, Buffer.from(chunk.toString().toUpperCase())) });
    const { sizeBytes } = await storage.write('a/b.txt', source, [upper]);
    expect(sizeBytes).toBe(11);
    expect(await storage.size('a/b.txt')).toBe(11);
    expect(await text(await storage.read('a/b.txt'))).toBe('HELLO WORLD');
    expect(await text(await storage.read('a/b.txt', { start: 2, end: 6 }))).toBe('LLO W');
  });

  it('copies an object into one that outlives it, and refuses to copy one that is not there', async () => {
    const { source, bytes } = randomSource(200_000);
    await storage.write('outputs/job_a/video.mp4', source);
    await storage.copy('outputs/job_a/video.mp4', 'outputs/job_b/video.mp4');
    // copying again over an existing copy (a resumed job) works too
    await storage.copy('outputs/job_a/video.mp4', 'outputs/job_b/video.mp4');
    await storage.remove('outputs/job_a');
    expect(await storage.size('outputs/job_a/video.mp4')).toBeUndefined();
    expect((await bytesOf(await storage.read('outputs/job_b/video.mp4'))).equals(bytes)).toBe(true);
    await expect(storage.copy('outputs/job_a/video.mp4', 'outputs/job_c/video.mp4')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await storage.size('outputs/job_c/video.mp4')).toBeUndefined();
  });

  it('streams a file larger than one S3 part and serves a range from its end', async () => {
    const size = 12 * 1024 * 1024 + 123;
    const { source, bytes } = randomSource(size);
    expect((await storage.write('big/video.mp4', source)).sizeBytes).toBe(size);
    expect(await storage.size('big/video.mp4')).toBe(size);
    expect((await bytesOf(await storage.read('big/video.mp4'))).equals(bytes)).toBe(true);
    const tail = await bytesOf(await storage.read('big/video.mp4', { start: size - 1000, end: size - 1 }));
    expect(tail.equals(bytes.subarray(size - 1000))).toBe(true);
  });

  it('shows a key only once its stream has fully arrived', async () => {
    const source = new PassThrough();
    const writing = storage.write('late/file.bin', source);
    source.write(randomBytes(100_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await storage.size('late/file.bin')).toBeUndefined();
    source.end(randomBytes(100_000));
    await writing;
    expect(await storage.size('late/file.bin')).toBe(200_000);
  });

  it('keeps nothing when a check fails, and rejects with the check\'s own error', async () => {
    await expect(storage.write('a/c.txt', Readable.from([Buffer.from('x')]), [refuseAfter(0)])).rejects.toThrow('refused');
    expect(await storage.size('a/c.txt')).toBeUndefined();
    // after several S3 parts have gone up
    await expect(storage.write('a/d.bin', randomSource(11 * 1024 * 1024).source, [refuseAfter(10 * 1024 * 1024)])).rejects.toThrow('refused');
    expect(await storage.size('a/d.bin')).toBeUndefined();
  });

  it('takes a local file in as an object, leaving no file behind', async () => {
    const file = path.join(dir, 'render.mp4');
    const bytes = randomBytes(300 * 1024);
    await writeFile(file, bytes);
    await expect(storage.moveIn('outputs/job_1/video.mp4', file)).resolves.toEqual({ sizeBytes: bytes.length });
    expect(await bytesOf(await storage.read('outputs/job_1/video.mp4'))).toEqual(bytes);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.moveIn('outputs/job_1/poster.jpg', path.join(dir, 'missing.jpg'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await storage.size('outputs/job_1/poster.jpg')).toBeUndefined();
  });

  it('lends an object as a local file', async () => {
    await storage.write('lend/photo.jpg', Readable.from([Buffer.from('jpeg bytes')]));
    let lent = '';
    const read = await storage.withLocalFile('lend/photo.jpg', async (file) => {
      lent = file;
      return readFile(file, 'utf8');
    });
    expect(read).toBe('jpeg bytes');
    if (backend === 's3') await expect(stat(lent)).rejects.toThrow(); // the temporary copy is gone
    await expect(storage.withLocalFile('lend/missing.jpg', async () => 'used')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('says when an object is missing', async () => {
    expect(await storage.size('nothing/here.mp4')).toBeUndefined();
    expect(await storage.delivery('nothing/here.mp4')).toBeUndefined();
    await expect(storage.read('nothing/here.mp4')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('removes a key and everything under it, and nothing that merely starts with the same letters', async () => {
    for (const key of ['job/x1/0.jpg', 'job/x1/sub/1.jpg', 'job/x10/0.jpg', 'uploads/single.jpg']) await storage.write(key, Readable.from([Buffer.from(key)]));
    await storage.remove('job/x1');
    await storage.remove('uploads/single.jpg');
    await storage.remove('never/written');
    expect(await storage.size('job/x1/0.jpg')).toBeUndefined();
    expect(await storage.size('job/x1/sub/1.jpg')).toBeUndefined();
    expect(await storage.size('uploads/single.jpg')).toBeUndefined();
    expect(await storage.size('job/x10/0.jpg')).toBe('job/x10/0.jpg'.length);
  });

  it('never takes a key that could leave its folder or bucket prefix', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '']) {
      await expect(storage.write(key, Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid storage key');
      await expect(storage.read(key)).rejects.toThrow('invalid storage key');
      await expect(storage.remove(key)).rejects.toThrow('invalid storage key');
    }
  });
});

describe('local storage', () => {
  it('takes in a local file from another filesystem (a scratch folder in tmpfs, storage on disk) by copying it', async () => {
    const scratch = await mkdtemp('/dev/shm/i2v-scratch-');
    const root = await mkdtemp(path.join(tmpdir(), 'i2v-storage-'));
    const local = await createStorage(loadConfig({ STORAGE_DIR: root }));
    try {
      const file = path.join(scratch, 'video.mp4');
      await writeFile(file, 'frames');
      await expect(local.moveIn('outputs/job_2/video.mp4', file)).resolves.toEqual({ sizeBytes: 6 });
      expect(await readFile(path.join(root, 'outputs/job_2/video.mp4'), 'utf8')).toBe('frames');
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(scratch, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('storage settings', () => {
  it('default to local storage kept 7 days, and refuse S3 without a bucket or with an endpoint that is not a URL', () => {
    expect(loadConfig({})).toMatchObject({ STORAGE: 'local', RETENTION_DAYS: 7, S3_REGION: 'us-east-1', S3_URL_TTL_S: 3600 });
    expect(() => loadConfig({ STORAGE: 's3' })).toThrow('S3_BUCKET: required when STORAGE=s3');
    expect(() => loadConfig({ STORAGE: 's3', S3_BUCKET: 'media', S3_ENDPOINT: 'minio:9000' })).toThrow('S3_ENDPOINT');
    expect(() => loadConfig({ RETENTION_DAYS: '-1' })).toThrow('RETENTION_DAYS');
    expect(loadConfig({ STORAGE: 's3', S3_BUCKET: 'media', RETENTION_DAYS: '0.5' })).toMatchObject({ STORAGE: 's3', RETENTION_DAYS: 0.5 });
  });
});
