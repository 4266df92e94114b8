import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';

describe('the jobs API answers bad requests with problem+json', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ env: { API_KEYS: 'shop-a=key-a,shop-b=key-b' } });
  });
  afterAll(async () => service?.close());

  const post = (body: unknown, key = 'key-a') =>
    fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses a request without a valid API key with 401', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic a2V5LWE=' }] as Record<string, string>[]) {
      const response = await fetch(`${service.url}/v1/jobs/job_01jabcdefghjkmnpqrstvwxyz0`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    }
  });

  it('lists every invalid field of a JSON body', async () => {
    const response = await post({ images: ['ftp://x/y.jpg'], options: { duration_s: 0, aspect_ratio: '3:2' }, extra: 1 });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe('validation_failed');
    const paths = problem.errors.map((e) => e.path).join(' ');
    expect(paths).toContain('images');
    expect(paths).toContain('duration_s');
    expect(paths).toContain('aspect_ratio');
  });

  it('validates captions, colours, transitions and music options', async () => {
    const response = await post({
      images: ['https://shop.example/a.jpg'],
      options: {
        text: [{ text: 'Sale', start_s: 3, end_s: 1 }, { text: 'New', start_s: 0, end_s: 1, position: 'middle' }],
        background: 'red',
        transition: 'spin',
        transition_s: 5,
        motion_intensity: 'wild',
        audio: { url: 'ftp://x/y.mp3', volume: 2 },
      },
    });
    expect(response.status).toBe(400);
    const paths = ((await response.json()) as { errors: { path: string }[] }).errors.map((e) => e.path);
    for (const path of ['text.0.end_s', 'text.1.position', 'background', 'transition', 'transition_s', 'motion_intensity', 'audio.url', 'audio.volume']) {
      expect(paths.some((p) => p.endsWith(path))).toBe(true);
    }
  });

  it('takes music as one multipart part named audio, checked by content', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const wrongAudio = new FormData();
    wrongAudio.append('images', new Blob([png], { type: 'image/png' }), 'a.png');
    wrongAudio.append('audio', new Blob([png], { type: 'audio/mpeg' }), 'song.mp3');
    const refused = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer key-a' }, body: wrongAudio });
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { detail: string }).detail).toContain('mp3, wav, m4a or aac');

    const both = new FormData();
    both.append('images', new Blob([png], { type: 'image/png' }), 'a.png');
    both.append('audio', new Blob([Buffer.from('fffb9064', 'hex'), Buffer.alloc(400)], { type: 'audio/mpeg' }), 'song.mp3');
    both.append('options', JSON.stringify({ audio: { url: 'https://music.example/a.mp3' } }));
    const conflicting = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer key-a' }, body: both });
    expect(conflicting.status).toBe(400);
    expect(((await conflicting.json()) as { detail: string }).detail).toContain('not both');
  });

  it('refuses a multipart file that is not an image, judged by content', async () => {
    const form = new FormData();
    form.append('images', new Blob(['%PDF-1.4 not an image'], { type: 'image/jpeg' }), 'fake.jpg');
    const response = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer key-a' }, body: form });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ code: 'unsupported_media_type' });
  });

  it("answers 404, not 403, for another tenant's job", async () => {
    const created = await post({ images: ['http://127.0.0.1:9/a.jpg'] });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const own = await fetch(`${service.url}/v1/jobs/${id}`, { headers: { authorization: 'Bearer key-a' } });
    expect(own.status).toBe(200);
    const other = await fetch(`${service.url}/v1/jobs/${id}`, { headers: { authorization: 'Bearer key-b' } });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'not_found' });
  });

  it('answers unknown routes and malformed JSON with problem+json', async () => {
    const missing = await fetch(`${service.url}/v1/nothing`, { headers: { authorization: 'Bearer key-a' } });
    expect(missing.status).toBe(404);
    const broken = await fetch(`${service.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: 'Bearer key-a', 'content-type': 'application/json' },
      body: '{"images": [',
    });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toContain('application/problem+json');
    const nothing = await post(null);
    expect(nothing.status).toBe(400);
    expect(await nothing.json()).toMatchObject({ code: 'validation_failed' });
  });
});
