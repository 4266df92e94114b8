import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { BackendClient } from '../../src/shared/backend/client.ts';
import { skillForPreset } from '../../src/shared/backend/attribution.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { BackendTokens } from '../../src/workers/backend-token.ts';
import { startTestEngine, type TestEngine } from '../engine/protocol-client.ts';
import { freePort } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';
import { parseExposition, valueOf } from '../ops/prometheus-text.ts';

describe('the backend token shared by all workers', () => {
  let engine: TestEngine;
  let redis: Redis;
  let client: BackendClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    redis = createRedis(inject('redisUrl'));
    client = new BackendClient({ baseUrl: engine.url, skill: skillForPreset('motion', '1.0.0', 'unknown') });
  });
  afterAll(async () => {
    redis.disconnect();
    await client.close();
    await engine.close();
  });

  const tokensFor = (prefix: string, configuredToken = '') =>
    new BackendTokens(redis, prefix, engine.url, {
      configuredToken,
      configuredClientId: '',
      requestAnonymousToken: (clientId) => client.anonymousToken(clientId),
    });

  it('gives a fleet of workers asking at once one anonymous token (the backend allows one per client)', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const fleet = Array.from({ length: 6 }, () => tokensFor(prefix));
    const tokens = await Promise.all(fleet.map(async (t) => (await t.current()).token));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^nmv_usr_/);
    // a second anonymous token for the same client would be refused, so the cache is what makes this work
    expect(await tokensFor(prefix).current()).toEqual({ token: tokens[0], kind: 'anonymous' });
    const session = await client.withToken(tokens[0] as string).createSession();
    expect(session.sessionId).toMatch(/^\d+$/);
  });

  it('uses NEMO_TOKEN first and falls back to an anonymous token once the backend rejects it', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const tokens = tokensFor(prefix, 'nmv_usr_configured_but_expired');
    const configured = await tokens.current();
    expect(configured).toEqual({ token: 'nmv_usr_configured_but_expired', kind: 'configured' });
    const fresh = await tokens.refresh(configured);
    expect(fresh.token).toMatch(/^nmv_usr_/);
    expect(fresh).toMatchObject({ kind: 'anonymous' });
    expect(fresh.token).not.toBe('nmv_usr_configured_but_expired');
    expect(await tokensFor(prefix, 'nmv_usr_configured_but_expired').current()).toEqual(fresh);
  });
});

describe('a rejected NEMO_TOKEN, in a worker process', () => {
  const NEMO_TOKEN = `nmv_usr_configured_${randomBytes(8).toString('hex')}`;
  const ADMIN_KEY = 'admin-key-for-token-tests';
  let service: TestService;
  let worker: ChildProcess | undefined;
  let metricsUrl: string;
  let photo: Blob;

  beforeAll(async () => {
    // the engine knows NEMO_TOKEN (its account is user_static_1); the worker is a process of its own
    service = await startTestService({ worker: false, engine: { faults: true, noTextRate: 0, staticTokens: [NEMO_TOKEN] } });
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    worker = spawnWorker(service.config, service.engineUrl, { NEMO_TOKEN, NEMO_TOKEN_RETRY_S: '1', ADMIN_KEY, METRICS_PORT: String(port), HOST: '127.0.0.1' });
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await service?.close();
  });

  const engine = async (method: string, route: string, body?: unknown): Promise<any> => {
    const init = body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    return ((await (await fetch(`${service.engineUrl}${route}`, init)).json()) as { data: unknown }).data;
  };

  /** Runs one small job; returns the engine user its session belonged to. */
  async function runJob(): Promise<string> {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const sessionId = (await service.records.get(job.id))?.checkpoint.sessionId;
    const stats = (await engine('GET', '/_engine/stats')) as { sessions: { id: string; user_id: string }[] };
    return stats.sessions.find((session) => session.id === sessionId)?.user_id as string;
  }

  const readyz = async () => (await fetch(`${service.url}/readyz`)).json() as Promise<Record<string, any>>;
  const rejectionsCounted = async () =>
    valueOf(parseExposition(await (await fetch(metricsUrl, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()), 'i2v_backend_token_rejections_total', { token: 'configured' });

  it('is tried again after its backoff and used once the backend accepts it; the rejection shows in metrics and /readyz', async () => {
    expect(await runJob()).toBe('user_static_1');
    expect((await readyz()).configured_token_rejected).toBeUndefined();

    // the backend rejects the token once; the job goes on with an anonymous token, and keeps it to its end
    // although its render (2 s) outlasts the wait before NEMO_TOKEN is tried again (1 s): its session belongs to that account
    await engine('POST', '/_engine/faults', [
      { kind: 'reply', endpoint: 'create_session', code: 1001 },
      { kind: 'render-delay', seconds: 2 },
    ]);
    expect(await runJob()).toMatch(/^anon_/);
    const ready = await readyz();
    expect(ready).toMatchObject({ status: 'ready', configured_token_rejected: { rejections: 1 } });
    expect(Date.parse(ready.configured_token_rejected.retry_at)).toBeGreaterThan(Date.parse(ready.configured_token_rejected.last_rejected_at));
    expect(await rejectionsCounted()).toBe(1);

    // once the backoff has run out, the fleet goes back to NEMO_TOKEN, which the backend accepts again
    const retryAt = Date.parse(ready.configured_token_rejected.retry_at);
    while (Date.now() <= retryAt) await new Promise((r) => setTimeout(r, 50));
    expect(await runJob()).toBe('user_static_1');
    expect((await readyz()).configured_token_rejected).toBeUndefined();
    expect(await rejectionsCounted()).toBe(1);
  });
});
