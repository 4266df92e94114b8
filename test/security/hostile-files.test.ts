import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../src/shared/infra/process.ts';
import { checkPicture } from '../../src/workers/picture-check.ts';
import { makeTestImage, pngDeclaring } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

/**
 * Hostile files: judged by content; mislabelled files, decompression bombs,
 * archives and SVG refused; truncated and corrupt pictures fail their job
 * with invalid_media (the worker survives); client file names never become
 * paths.
 */

const MAX_PIXELS = 4_000_000;

/** A PNG header declaring `width`×`height`, with a tiny body. */
/** A GIF header declaring 65535×65535. */
const gifBomb = () => Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]), Buffer.from([0x3b])]);

/**
 * A JPEG whose size (60000×60000) comes after 320 KB of metadata: past what
 * the API reads of a file's start while it streams, so only the worker's
 * check, which reads further, sees it.
 */
function jpegBombBehindMetadata(): Buffer {
  const app = (n: number) => Buffer.concat([Buffer.from([0xff, 0xe0 + (n % 16), 0xff, 0xff]), Buffer.alloc(0xfffd, n)]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0xea, 0x60, 0xea, 0x60, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app(1), app(2), app(3), app(4), app(5), sof, Buffer.from([0xff, 0xd9])]);
}

const ARCHIVES: [string, Buffer][] = [
  ['photos.zip', Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), Buffer.alloc(200)])],
  ['photos.tar.gz', Buffer.concat([Buffer.from('1f8b0800000000000003', 'hex'), Buffer.alloc(200)])],
  ['photos.7z', Buffer.concat([Buffer.from('377abcaf271c0004', 'hex'), Buffer.alloc(200)])],
  ['logo.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>fetch("http://169.254.169.254/")</script></svg>')],
  ['logo2.svg', Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')],
  ['page.html', Buffer.from('<!doctype html><html><body><img src=x onerror=alert(1)></body></html>')],
];

describe('hostile files', () => {
  let service: TestService;
  let server: Server;
  let base: string;
  const files: Record<string, Buffer> = {};
  const served: Record<string, { type: string; body: Buffer }> = {};

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-hostile-'));
    files.ok = await readFile(await makeTestImage(path.join(dir, 'ok.jpg'), 160, 120));
    const big = await readFile(await makeTestImage(path.join(dir, 'big.jpg'), 640, 480));
    files.truncatedJpeg = big.subarray(0, Math.floor(big.length * 0.6));
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=1', '-frames:v', '1', path.join(dir, 'ok.png')]);
    files.png = await readFile(path.join(dir, 'ok.png'));
    const corrupt = Buffer.from(files.png);
    for (let i = 200; i < corrupt.length - 100; i += 53) corrupt[i]! ^= 0x5a;
    files.corruptPng = corrupt;
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=1', '-frames:v', '1', path.join(dir, 'ok.gif')]);
    files.truncatedGif = (await readFile(path.join(dir, 'ok.gif'))).subarray(0, 300);
    await rm(dir, { recursive: true, force: true });

    Object.assign(served, {
      '/ok.jpg': { type: 'image/jpeg', body: files.ok },
      '/bomb.png': { type: 'image/png', body: pngDeclaring(50_000, 50_000) },
      '/truncated.jpg': { type: 'image/jpeg', body: files.truncatedJpeg },
      '/mislabelled.png': { type: 'image/png', body: files.ok },
      '/archive.jpg': { type: 'image/jpeg', body: ARCHIVES[0]![1] },
      '/logo.svg': { type: 'image/svg+xml', body: ARCHIVES[3]![1] },
      '/song.mp3': { type: 'audio/mpeg', body: files.ok },
    });
    server = createServer((req, res) => {
      const file = served[req.url ?? ''];
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.type }).end(file.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    service = await startTestService({ env: { URL_FETCH_ALLOWLIST: '127.0.0.1', JOB_ATTEMPTS: '1', MAX_IMAGE_PIXELS: String(MAX_PIXELS) } });
  });
  afterAll(async () => {
    await service?.close();
    server?.close();
  });

  const auth = { authorization: 'Bearer dev-key' };
  const options = { duration_s: 1, resolution: '720p', fps: 24 };

  function multipartJob(name: string, body: Buffer, type?: string): Promise<Response> {
    const form = new FormData();
    form.append('images', new Blob([body], type ? { type } : {}), name);
    form.append('options', JSON.stringify(options));
    return fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
  }

  async function failedJob(response: Response): Promise<{ code: string; message: string }> {
    expect(response.status).toBe(202);
    const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
    expect(job.status).toBe('failed');
    return job.error;
  }

  describe('refused at the API, judged by content', () => {
    it('a file claiming one type and being another: by its name, or by its declared type', async () => {
      for (const [name, type, body] of [
        ['photo.png', undefined, files.ok],
        ['photo', 'image/png', files.ok],
        ['photo.jpg', 'text/html', files.png],
        ['clip.mp4', undefined, files.png],
      ] as const) {
        const response = await multipartJob(name, body!, type);
        expect(response.status, `${name} ${type}`).toBe(415);
        expect(await response.json()).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringMatching(/declared as|is named/) });
      }
      // the same bytes under their own name and type, or under none, are fine
      expect((await multipartJob('photo.jpg', files.ok!, 'image/jpeg')).status).toBe(202);
      expect((await multipartJob('photo', files.ok!)).status).toBe(202);
      expect((await multipartJob('photo.JPEG', files.ok!, 'image/jpg')).status).toBe(202);
    });

    it.each([
      ['a PNG declaring 50,000×50,000', 'bomb.png', pngDeclaring(50_000, 50_000)],
      ['a GIF declaring 65,535×65,535', 'bomb.gif', gifBomb()],
      ['a PNG just over MAX_IMAGE_PIXELS', 'wide.png', pngDeclaring(2001, 2000)],
    ])('a decompression bomb is refused before decoding: %s', async (_name, name, body) => {
      const response = await multipartJob(name, body);
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({ code: 'image_too_large' });
    });

    it.each(ARCHIVES)('archives, SVG and HTML are refused: %s', async (name, body) => {
      const response = await multipartJob(name, body, name.endsWith('.svg') ? 'image/svg+xml' : undefined);
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ code: 'unsupported_media_type' });
      const upload = new FormData();
      upload.append('file', new Blob([body]), name);
      expect((await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: upload })).status).toBe(415);
    });

    it("client file names never reach a filesystem path: storage keys are generated", async () => {
      const names = ['../../../../tmp/i2v-pwned.jpg', '..\\..\\..\\i2v-pwned.jpg', '/etc/i2v-pwned.jpg', '%2e%2e%2fi2v-pwned.jpg', 'a/../../b.jpg', `${'x'.repeat(1000)}.jpg`, 'nul .jpg', '.jpg'];
      const form = new FormData();
      for (const name of names) form.append('file', new Blob([files.ok!], { type: 'image/jpeg' }), name);
      const response = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form });
      expect(response.status).toBe(201);
      const { data } = (await response.json()) as { data: { id: string; filename: string }[] };
      expect(data).toHaveLength(names.length);
      const stored = (await readdir(service.config.STORAGE_DIR, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      const keys = stored.map((e) => path.relative(service.config.STORAGE_DIR, path.join(e.parentPath, e.name)));
      for (const { id } of data) expect(keys).toContain(`uploads/${id}.jpg`);
      for (const key of keys) expect(key).toMatch(/^(uploads\/upl_[0-9a-z]{26}|inputs\/job_[0-9a-z]{26}\/\d+)\.(jpg|png|gif)$/);
      expect((await readdir(tmpdir())).filter((n) => n.includes('i2v-pwned'))).toEqual([]);
    });
  });

  describe('truncated and corrupt pictures fail their job with invalid_media', () => {
    it.each([
      ['a truncated JPEG (its header is whole)', 'cut.jpg', () => files.truncatedJpeg!],
      ['a PNG with corrupt compressed data', 'corrupt.png', () => files.corruptPng!],
      ['a truncated GIF', 'cut.gif', () => files.truncatedGif!],
    ])('%s', async (_name, name, body) => {
      const error = await failedJob(await multipartJob(name, body()));
      expect(error).toMatchObject({ code: 'invalid_media', retryable: false });
      expect(error.message).toContain(`"${name}" is damaged or truncated`);
      expect(error.message).not.toContain(service.config.STORAGE_DIR);
    });

    it('a bomb whose size the API could not see in time is refused by the worker, before decoding', async () => {
      const error = await failedJob(await multipartJob('hidden.jpg', jpegBombBehindMetadata()));
      expect(error).toMatchObject({ code: 'image_too_large' });
      expect(error.message).toContain('60000×60000');
    });
  });

  describe('downloaded files are judged the same way', () => {
    it.each([
      ['a decompression bomb', '/bomb.png', 'image_too_large', /50000×50000/],
      ['a truncated JPEG', '/truncated.jpg', 'invalid_media', /damaged or truncated/],
      ['a JPEG declared as image/png', '/mislabelled.png', 'unsupported_media', /declared as image\/png but its content is image\/jpeg/],
      ['a zip declared as image/jpeg', '/archive.jpg', 'unsupported_media', /sent application\/zip/],
      ['an SVG', '/logo.svg', 'unsupported_media', /file of unknown type|xml/],
    ])('%s', async (_name, url, code, message) => {
      const error = await failedJob(await postJob(service.url, { images: [`${base}${url}`], options }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    });

    it('music that is really a picture is refused', async () => {
      const error = await failedJob(await postJob(service.url, { images: [`${base}/ok.jpg`], options: { ...options, audio: { url: `${base}/song.mp3` } } }));
      expect(error).toMatchObject({ code: 'unsupported_media', message: expect.stringContaining('not audio') });
    });
  });

  it('after all that the worker is alive and renders a good picture', async () => {
    const response = await postJob(service.url, { images: [`${base}/ok.jpg`], options });
    const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
    expect(job.status).toBe('succeeded');
  });

  it('the check itself: a whole picture passes; the size limit comes before any decoding', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-check-'));
    try {
      const ok = await makeTestImage(path.join(dir, 'ok.jpg'), 64, 48);
      await expect(checkPicture(ok, 'jpg', 'ok.jpg', { maxPixels: MAX_PIXELS })).resolves.toBeUndefined();
      await expect(checkPicture(ok, 'jpg', 'ok.jpg', { maxPixels: 64 * 48 - 1 })).rejects.toMatchObject({ code: 'image_too_large' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
