import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegBytes } from '../engine/render-helpers.ts';
import { makeSolidImage, pngDeclaring } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };
const SIZE = 720;
type Rgb = [number, number, number];
const BLUE: Rgb = [30, 30, 220];
const YELLOW: Rgb = [250, 200, 0];

describe('options.logo and options.badge, through the API, the worker and the engine', () => {
  let service: TestService;
  let photo: Buffer;
  let logo: Buffer;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    service = await startTestService();
    photo = await readFile(await makeSolidImage(path.join(service.dir, 'photo.png'), '0x1E1EDC', 320, 240));
    logo = await readFile(await makeSolidImage(path.join(service.dir, 'logo.png'), '0xFAC800', 64, 32));
    const files: Record<string, [string, Buffer]> = { '/photo.png': ['image/png', photo], '/logo.png': ['image/png', logo], '/logo.txt': ['image/png', Buffer.from('not a picture at all')] };
    server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (!file) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server?.close();
    await service?.close();
  });

  const options = (extra: Record<string, unknown>) => ({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p', motion: 'static', ...extra });

  function form(parts: { images?: Buffer; logo?: Buffer; logos?: number; options?: unknown }): FormData {
    const body = new FormData();
    body.append('images', new Blob([parts.images ?? photo], { type: 'image/png' }), 'photo.png');
    for (let i = 0; i < (parts.logos ?? (parts.logo ? 1 : 0)); i++) body.append('logo', new Blob([parts.logo ?? logo], { type: 'image/png' }), 'brand.png');
    if (parts.options) body.append('options', JSON.stringify(parts.options));
    return body;
  }

  const post = (body: FormData | Record<string, unknown>) =>
    fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: body instanceof FormData ? auth : { ...auth, 'content-type': 'application/json' },
      body: body instanceof FormData ? body : JSON.stringify(body),
    });

  async function finished(response: Response): Promise<Record<string, any>> {
    expect(response.status).toBe(202);
    const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    return job;
  }

  async function firstFrame(job: Record<string, any>): Promise<(x0: number, y0: number, x1: number, y1: number) => Rgb> {
    const video = path.join(service.dir, `${job.id}.mp4`);
    await writeFile(video, Buffer.from(await (await fetch(job.result.video_url, { headers: auth })).arrayBuffer()));
    const frame = await ffmpegBytes(['-i', video, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    return (x0, y0, x1, y1) => {
      const sums = [0, 0, 0];
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sums[c]! += frame[(y * SIZE + x) * 3 + c]!;
      return sums.map((sum) => sum / ((x1 - x0) * (y1 - y0))) as Rgb;
    };
  }

  const near = (actual: Rgb, expected: Rgb) => expect(Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(20);

  it('overlays an uploaded logo part in the chosen corner, named in the instruction, not shown as a photo', async () => {
    const job = await finished(await post(form({ logo, options: options({ logo: { corner: 'bottom-left', size: 0.25, margin: 0.05 } }) })));
    // 0.25 × 720 = 180 px wide, 90 high, 36 px in from the left and the bottom: x 36–216, y 594–684
    const colour = await firstFrame(job);
    near(colour(50, 610, 200, 670), YELLOW);
    near(colour(SIZE - 200, 50, SIZE - 50, 110), BLUE);
    near(colour(250, 300, 450, 400), BLUE);
    expect(job.result.timeline_summary).toMatch(/Video: photo\.png .* Logo: brand\.png/);
    const record = await service.records.get(job.id);
    expect(record?.checkpoint.instruction?.text).toContain('Overlay the uploaded logo "brand.png" in the bottom-left corner, size 25%, margin 5%.');
  });

  it('fetches a logo URL with the image guard and puts it top-right by default, with a badge', async () => {
    const job = await finished(await post({ images: [`${base}/photo.png`], options: options({ logo: { url: `${base}/logo.png`, opacity: 0.5 }, badge: { text: '€19.99', corner: 'bottom-right' } }) }));
    // 0.2 × 720 = 144 px wide, 72 high, 29 px in from the top and the right: x 547–691, y 29–101
    const colour = await firstFrame(job);
    near(colour(560, 40, 680, 90), YELLOW.map((v, i) => (v + BLUE[i]!) / 2) as Rgb);
    near(colour(40, 40, 160, 90), BLUE);
    expect(job.result.timeline_summary).toContain('Badge: "€19.99"');
  });

  it('fails the job, not the API, when a logo URL is not a still image', async () => {
    const created = await post({ images: [`${base}/photo.png`], options: options({ logo: { url: `${base}/logo.txt` } }) });
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'unsupported_media', retryable: false });
    expect(job.error.message).toContain('a still image');
  });

  it.each([
    ['a logo part that is not a picture', () => form({ logo: Buffer.from('%PDF-1.4 not an image') }), 415, 'unsupported_media_type'],
    ['a logo part that is a sound', () => form({ logo: Buffer.concat([Buffer.from('fffb9064', 'hex'), Buffer.alloc(400)]) }), 415, 'unsupported_media_type'],
    ['a logo of more pixels than MAX_IMAGE_PIXELS', () => form({ logo: pngDeclaring(50_000, 50_000) }), 422, 'image_too_large'],
    ['two logo parts', () => form({ logos: 2 }), 400, 'validation_failed'],
    ['a logo part and options.logo.url', () => form({ logo, options: { logo: { url: `${base}/logo.png` } } }), 400, 'validation_failed'],
    ['options.logo without its image', () => ({ images: [`${base}/photo.png`], options: { logo: { corner: 'top-left' } } }), 400, 'validation_failed'],
    ['a logo URL that is not http(s)', () => ({ images: [`${base}/photo.png`], options: { logo: { url: 'ftp://example.com/logo.png' } } }), 400, 'validation_failed'],
    ['a corner that does not exist', () => ({ images: [`${base}/photo.png`], options: { logo: { url: `${base}/logo.png`, corner: 'middle' } } }), 400, 'validation_failed'],
    ['a logo larger than half the width', () => ({ images: [`${base}/photo.png`], options: { logo: { url: `${base}/logo.png`, size: 0.8 } } }), 400, 'validation_failed'],
    ['an empty badge', () => ({ images: [`${base}/photo.png`], options: { badge: { text: '' } } }), 400, 'validation_failed'],
    ['a badge of more than 40 characters', () => ({ images: [`${base}/photo.png`], options: { badge: { text: 'x'.repeat(41) } } }), 400, 'validation_failed'],
  ])('refuses %s', async (_, body, status, code) => {
    const response = await post(body());
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ code });
  });

  it('refuses an uploaded sound as a logo', async () => {
    const upload = new FormData();
    upload.append('files', new Blob([Buffer.concat([Buffer.from('fffb9064', 'hex'), Buffer.alloc(400)])], { type: 'audio/mpeg' }), 'song.mp3');
    const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: upload });
    expect(uploaded.status).toBe(201);
    const { id } = ((await uploaded.json()) as { data: [{ id: string }] }).data[0];
    const response = await post({ images: [`${base}/photo.png`], options: { logo: { url: `upload:${id}` } } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain('not a still image');
  });
});
