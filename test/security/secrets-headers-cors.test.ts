import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/infra/config.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver } from '../webhooks/receiver.ts';

/**
 * Secrets and keys: API keys checked against digests and never stored;
 * no secret in job records, Redis or error replies; helmet's headers on the
 * HTML pages (which still work in a browser under that policy); CORS off
 * unless CORS_ORIGINS is set; admin routes need the admin key.
 */

const API_KEY = `ak_${randomBytes(16).toString('hex')}`;
const SECOND_KEY = `ak_${randomBytes(16).toString('hex')}`;
const OTHER_KEY = `ak_${randomBytes(16).toString('hex')}`;
const ADMIN_KEY = `adm_${randomBytes(16).toString('hex')}`;
const BACKEND_TOKEN = `nemo_${randomBytes(16).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const URL_SIGNATURE = randomBytes(24).toString('hex');
const ORIGIN = 'https://shop.example.com';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Every value under a Redis prefix, as one string to search. */
async function everythingUnder(url: string, prefix: string): Promise<{ keys: string[]; values: string }> {
  const redis = createRedis(url);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const values: string[] = [];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') values.push((await redis.get(key)) ?? '');
      else if (type === 'hash') values.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') values.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') values.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') values.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
      else if (type === 'stream') values.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    return { keys, values: values.join('\n') };
  } finally {
    redis.disconnect();
  }
}

describe('secrets, headers and CORS', () => {
  let service: TestService;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver().start();
    service = await startTestService({
      engine: { noTextRate: 0, staticTokens: [BACKEND_TOKEN] },
      env: {
        API_KEYS: `shop=${API_KEY},shop=${SECOND_KEY},other=${OTHER_KEY}`,
        ADMIN_KEY,
        NEMO_TOKEN: BACKEND_TOKEN,
        WEBHOOK_SECRETS: `shop=${WEBHOOK_SECRET}`,
        CORS_ORIGINS: `${ORIGIN},http://localhost:5173`,
        JOB_ATTEMPTS: '1',
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    receiver?.close();
  });

  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${service.url}${p}`, { headers });

  describe('API keys', () => {
    it('only an exact key opens the API: not a prefix, an extension, another case, or another scheme', async () => {
      for (const key of [API_KEY, SECOND_KEY]) expect((await get('/v1/jobs', { authorization: `Bearer ${key}` })).status).toBe(200);
      expect((await get('/v1/jobs', { authorization: `bearer ${API_KEY}` })).status).toBe(200);
      for (const header of [`Bearer ${API_KEY.slice(0, -1)}`, `Bearer ${API_KEY}x`, `Bearer ${API_KEY.toUpperCase()}`, `Basic ${API_KEY}`, API_KEY, `Bearer ${ADMIN_KEY}`, 'Bearer ', '']) {
        const response = await get('/v1/jobs', { authorization: header });
        expect(response.status, header).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(await response.json()).toMatchObject({ code: 'unauthorized' });
      }
    });

    it('no key, token or webhook secret is kept in Redis, job records or error replies', async () => {
      const photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 160, 120));
      const image = receiver.serve('/p.jpg', 'image/jpeg', photo);
      const done = await postJob(service.url, { images: [image], options: { duration_s: 1, resolution: '720p' }, webhook_url: receiver.answer('/hook', () => ({ status: 200 })) }, API_KEY);
      const signed = `${receiver.url}/missing.jpg?X-Amz-Signature=${URL_SIGNATURE}`;
      const failed = await postJob(service.url, { images: [signed] }, API_KEY);
      const doneJob = await waitForJob(service.url, ((await done.json()) as { id: string }).id, API_KEY);
      const failedJob = await waitForJob(service.url, ((await failed.json()) as { id: string }).id, API_KEY);
      expect(doneJob.status).toBe('succeeded');
      expect(failedJob.error.code).toBe('fetch_failed');
      await receiver.waitFor('/hook');

      const replies = JSON.stringify([doneJob, failedJob, await (await get('/v1/webhooks/deliveries', { authorization: `Bearer ${API_KEY}` })).json()]);
      const { keys, values } = await everythingUnder(service.config.REDIS_URL, service.config.REDIS_PREFIX);
      expect(keys.length).toBeGreaterThan(10);
      const stored = `${keys.join('\n')}\n${values}`;
      for (const [name, secret] of Object.entries({ API_KEY, SECOND_KEY, ADMIN_KEY, BACKEND_TOKEN, WEBHOOK_SECRET, 'the webhook secret without its prefix': WEBHOOK_SECRET.slice(6) })) {
        expect(stored.includes(secret), `${name} in Redis`).toBe(false);
        expect(replies.includes(secret), `${name} in a reply`).toBe(false);
      }
      // the signed URL is the job's input (the worker needs it), never in its error
      expect(failedJob.error.message).not.toContain(URL_SIGNATURE);
      // the per-key rate limit counts under a digest of the key
      expect(keys.some((key) => key.includes('rate-limit'))).toBe(true);
    });
  });

  describe('admin routes need the admin key', () => {
    it.each(['/v1/admin/stats', '/metrics', '/admin/queues'])('%s', async (route) => {
      expect((await get(route)).status).toBe(401);
      expect((await get(route, { authorization: `Bearer ${API_KEY}` })).status).toBe(401);
      expect((await get(route, { authorization: `Bearer ${ADMIN_KEY}x` })).status).toBe(401);
      const admitted = await get(route, { authorization: `Bearer ${ADMIN_KEY}` });
      expect(admitted.status).toBeLessThan(400);
    });

    it('are off (404) without ADMIN_KEY', async () => {
      const plain = await startTestService({ worker: false });
      try {
        for (const route of ['/v1/admin/stats', '/metrics', '/admin/queues']) expect((await fetch(`${plain.url}${route}`, { headers: { authorization: 'Bearer dev-key' } })).status).toBe(404);
        // nor is there CORS without CORS_ORIGINS
        const preflight = await fetch(`${plain.url}/v1/jobs`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
        const simple = await fetch(`${plain.url}/v1/jobs`, { headers: { origin: ORIGIN, authorization: 'Bearer dev-key' } });
        expect(simple.status).toBe(200);
        expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await plain.close();
      }
    });
  });

  describe('helmet on HTML pages', () => {
    const adminAuth = { authorization: `Bearer ${ADMIN_KEY}` };

    it.each([
      ['the page at /', '/', {}],
      ['the API reference', '/docs/', {}],
      ['the queue dashboard', '/admin/queues', adminAuth],
    ])('%s', async (_name, route, headers) => {
      const response = await get(route, headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    });

    it('/docs and the dashboard work in a browser under that policy (no violation, the page renders)', async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } });
        for (const [route, ready] of [
          ['/docs/', '.swagger-ui .info .title'],
          ['/admin/queues', '#root nav, #root header, #root aside'],
        ] as const) {
          const page = await context.newPage();
          const violations: string[] = [];
          page.on('console', (message) => {
            if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
          });
          page.on('pageerror', (error) => violations.push(error.message));
          await page.goto(`${service.url}${route}`);
          await page.waitForSelector(ready, { timeout: 15_000 });
          if (route === '/docs/') expect(await page.textContent('.swagger-ui .info .title')).toContain('i2v');
          expect(violations, route).toEqual([]);
          await page.close();
        }
      } finally {
        await browser.close();
      }
    });
  });

  describe('CORS with CORS_ORIGINS set', () => {
    it('answers a preflight from a listed origin without a key, and names what may be sent and read', async () => {
      const preflight = await fetch(`${service.url}/v1/jobs`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const simple = await get('/v1/jobs', { origin: ORIGIN, authorization: `Bearer ${API_KEY}` });
      expect(simple.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(simple.headers.get('access-control-expose-headers')).toContain('location');
    });

    it('gives nothing to an origin that is not listed', async () => {
      for (const origin of ['https://evil.example', 'https://shop.example.com.evil.example', 'null', 'http://shop.example.com']) {
        const preflight = await fetch(`${service.url}/v1/jobs`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
        expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
        const simple = await get('/v1/jobs', { origin, authorization: `Bearer ${API_KEY}` });
        expect(simple.headers.get('access-control-allow-origin'), origin).toBeNull();
      }
    });

    it('takes only exact origins in CORS_ORIGINS', () => {
      expect(loadConfig({ CORS_ORIGINS: 'https://a.example,http://localhost:5173' }).CORS_ORIGINS).toEqual(['https://a.example', 'http://localhost:5173']);
      for (const bad of ['*', 'https://a.example/', 'https://a.example/app', 'a.example']) {
        expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
      }
    });
  });
});
