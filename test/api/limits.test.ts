import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngDeclaring } from '../helpers/media.ts';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

/** A valid PNG header that declares `width`×`height`, with a tiny body: a decompression bomb's shape. */
describe('request limits', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      worker: false,
      env: { API_KEYS: 'shop-a=key-a,shop-b=key-b,shop-c=key-c', RATE_LIMIT_PER_MINUTE: '5', MAX_UPLOAD_MB: '0.05', BACKEND_URL: 'http://127.0.0.1:9' },
    });
  });
  afterAll(async () => service?.close());

  const upload = (file: Buffer, name: string, key = 'key-b') => {
    const form = new FormData();
    form.append('images', new Blob([file]), name);
    return fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  };

  it('refuses a picture declaring more pixels than the limit before decoding it', async () => {
    const response = await upload(pngDeclaring(50_000, 50_000), 'bomb.png');
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: 'image_too_large' });
  });

  it('answers 413 as soon as a file crosses MAX_UPLOAD_MB', async () => {
    const big = Buffer.concat([pngDeclaring(100, 100).subarray(0, 33), Buffer.alloc(200_000)]);
    const response = await upload(big, 'big.png');
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('limits requests per API key, with RateLimit headers, Retry-After and a problem', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const response = await postJob(service.url, { images: ['https://shop.example/a.jpg'] }, 'key-a');
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else expect(response.headers.get('ratelimit-limit')).toBe('5');
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited?.headers.get('content-type')).toContain('application/problem+json');
    expect(await limited?.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    const otherKey = await postJob(service.url, { images: ['https://shop.example/a.jpg'] }, 'key-b');
    expect(otherKey.status).toBe(202);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('says it is not ready when the backend does not answer', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', redis: true, backend: false });
  });

  it('refuses webhook URLs that are not https or point at private addresses', async () => {
    for (const webhook_url of ['http://hooks.example.com/x', 'https://10.0.0.5/hook', 'https://169.254.169.254/latest', 'https://localhost/x', 'https://[::1]/']) {
      const response = await postJob(service.url, { images: ['https://shop.example/a.jpg'], webhook_url }, 'key-c');
      expect(response.status, webhook_url).toBe(400);
      expect(((await response.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe('body.webhook_url');
    }
  });
});

describe('the rate limit across API processes', () => {
  const PER_MINUTE = 300;
  let first: TestService;
  let second: TestService;
  beforeAll(async () => {
    // two API processes behind one load balancer: the same Redis and prefix
    const env = { API_KEYS: 'shop-a=key-a,shop-b=key-b,shop-c=key-c', RATE_LIMIT_PER_MINUTE: String(PER_MINUTE), REDIS_PREFIX: `test-shared-${Date.now()}`, BACKEND_URL: 'http://127.0.0.1:9' };
    first = await startTestService({ worker: false, env });
    second = await startTestService({ worker: false, env });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  const list = (service: TestService, key: string) => fetch(`${service.url}/v1/jobs?limit=1`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

  it('shares one budget per key: together they admit at most the limit, and then both refuse', async () => {
    // 250 requests to each, 50 at a time per process
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 50 }, () => [list(first, 'key-a'), list(second, 'key-a')]).flat();
      statuses.push(...(await Promise.all(batch)));
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(admitted).toBeLessThanOrEqual(PER_MINUTE);
    // what the other process leased and did not use is lost: a lease is 1 % of the limit at most
    expect(admitted).toBeGreaterThanOrEqual(PER_MINUTE - Math.floor(PER_MINUTE / 100));
    expect(await list(first, 'key-a')).toBe(429);
    expect(await list(second, 'key-a')).toBe(429);
    // another key has its own budget
    expect(await list(second, 'key-b')).toBe(200);
  });

  it('counts what a key used on one process against the other', async () => {
    for (let i = 0; i < 10; i++) expect(await list(first, 'key-c')).toBe(200);
    const response = await fetch(`${second.url}/v1/jobs?limit=1`, { headers: { authorization: 'Bearer key-c' } });
    expect(response.status).toBe(200);
    // 10 on the first process and this one; what the first leased ahead counts too
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeLessThanOrEqual(PER_MINUTE - 11);
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(PER_MINUTE - 11 - Math.floor(PER_MINUTE / 100));
  });
});
