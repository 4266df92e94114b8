import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Receiver } from '../webhooks/receiver.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

/**
 * Tenant isolation: tenant B's key against every route that takes one of
 * tenant A's ids (jobs, videos, posters, events, revisions, retries, cancels,
 * batches, uploads, deliveries) answers exactly as for an id that does not
 * exist: 404 (an upload reference in a body: the same 400 as a made-up one).
 */

const A = 'key-tenant-a-0123456789';
const B = 'key-tenant-b-0123456789';

type Call = { method: 'GET' | 'HEAD' | 'POST' | 'DELETE'; path: string; body?: unknown; headers?: Record<string, string> };

describe('tenant isolation', () => {
  let service: TestService;
  let receiver: Receiver;
  const ids = { job: '', batch: '', upload: '', delivery: '', template: '' };
  const MISSING = { job: 'job_00000000000000000000000000', batch: 'bat_00000000000000000000000000', upload: 'upl_00000000000000000000000000', delivery: 'whd_00000000000000000000000000', template: 'tpl_00000000000000000000000000' };

  const call = (key: string, { method, path: p, body, headers = {} }: Call) =>
    fetch(`${service.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    receiver = await new Receiver().start();
    service = await startTestService({ env: { API_KEYS: `a=${A},b=${B}`, URL_FETCH_ALLOWLIST: '127.0.0.1', WEBHOOK_RETRY_SCHEDULE: '0' } });
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-tenants-'));
    const photo = await readFile(await makeTestImage(path.join(dir, 'p.jpg'), 160, 120));
    await rm(dir, { recursive: true, force: true });

    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'p.jpg');
    const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${A}` }, body: form });
    ids.upload = ((await uploaded.json()) as { data: { id: string }[] }).data[0]!.id;

    const hook = receiver.answer('/a', () => ({ status: 200 }));
    const job = await postJob(service.url, { images: [`upload:${ids.upload}`], options: { duration_s: 1, resolution: '720p', fps: 24 }, webhook_url: hook }, A, { 'idempotency-key': 'shared-key' });
    ids.job = ((await job.json()) as { id: string }).id;
    expect((await waitForJob(service.url, ids.job, A)).status).toBe('succeeded');

    const batch = await call(A, { method: 'POST', path: '/v1/batches', body: { items: [{ images: [`upload:${ids.upload}`], options: { duration_s: 1, resolution: '720p' } }] } });
    ids.batch = ((await batch.json()) as { id: string }).id;
    const template = await call(A, { method: 'POST', path: '/v1/templates', body: { name: 'card', body: { images: ['{{image_url}}'], options: { duration_s: 1 } } } });
    expect(template.status).toBe(201);
    ids.template = ((await template.json()) as { id: string }).id;

    for (let i = 0; i < 100 && !ids.delivery; i++) {
      const list = (await (await call(A, { method: 'GET', path: `/v1/webhooks/deliveries?job_id=${ids.job}` })).json()) as { data: { id: string }[] };
      ids.delivery = list.data[0]?.id ?? '';
      if (!ids.delivery) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ids.delivery).toMatch(/^whd_/);
  });
  afterAll(async () => {
    await service?.close();
    receiver?.close();
  });

  /** Every route that takes an id, with the id filled in. */
  const routes = (id: typeof ids): [string, Call][] => [
    ['GET /v1/jobs/{id}', { method: 'GET', path: `/v1/jobs/${id.job}` }],
    ['HEAD /v1/jobs/{id}', { method: 'HEAD', path: `/v1/jobs/${id.job}` }],
    ['GET /v1/jobs/{id}/video', { method: 'GET', path: `/v1/jobs/${id.job}/video` }],
    ['GET /v1/jobs/{id}/video (a range)', { method: 'GET', path: `/v1/jobs/${id.job}/video`, headers: { range: 'bytes=0-99' } }],
    ['HEAD /v1/jobs/{id}/video', { method: 'HEAD', path: `/v1/jobs/${id.job}/video` }],
    ['GET /v1/jobs/{id}/poster', { method: 'GET', path: `/v1/jobs/${id.job}/poster` }],
    ['GET /v1/jobs/{id}/outputs/{n}/video', { method: 'GET', path: `/v1/jobs/${id.job}/outputs/0/video` }],
    ['GET /v1/jobs/{id}/outputs/{n}/poster', { method: 'GET', path: `/v1/jobs/${id.job}/outputs/0/poster` }],
    ['GET /v1/jobs/{id}/events', { method: 'GET', path: `/v1/jobs/${id.job}/events` }],
    ['POST /v1/jobs/{id}/cancel', { method: 'POST', path: `/v1/jobs/${id.job}/cancel` }],
    ['POST /v1/jobs/{id}/retry', { method: 'POST', path: `/v1/jobs/${id.job}/retry` }],
    ['POST /v1/jobs/{id}/revisions', { method: 'POST', path: `/v1/jobs/${id.job}/revisions`, body: { prompt: 'slower' } }],
    ['GET /v1/batches/{id}', { method: 'GET', path: `/v1/batches/${id.batch}` }],
    ['POST /v1/batches/{id}/cancel', { method: 'POST', path: `/v1/batches/${id.batch}/cancel` }],
    ['GET /v1/templates/{id}', { method: 'GET', path: `/v1/templates/${id.template}` }],
    ['GET /v1/templates/{id}/versions/{version}', { method: 'GET', path: `/v1/templates/${id.template}/versions/1` }],
    ['POST /v1/templates/{id}/versions', { method: 'POST', path: `/v1/templates/${id.template}/versions`, body: { body: { images: ['{{image_url}}'] } } }],
    ['DELETE /v1/templates/{id}', { method: 'DELETE', path: `/v1/templates/${id.template}` }],
    ['POST /v1/webhooks/deliveries/{id}/redeliver', { method: 'POST', path: `/v1/webhooks/deliveries/${id.delivery}/redeliver` }],
  ];

  it("tenant A's own key reaches each of them", async () => {
    for (const [name, request] of routes(ids)) {
      if (name.includes('cancel') || name.includes('retry') || name.includes('revisions') || name.includes('redeliver') || name.includes('versions') && name.startsWith('POST') || name.startsWith('DELETE')) continue; // they change things
      const response = await call(A, request);
      expect(response.status, name).toBeLessThan(300);
      await response.body?.cancel();
    }
  });

  it("tenant B gets 404 for every one of A's ids, exactly as for ids that do not exist", async () => {
    const missing = new Map(routes(MISSING));
    for (const [name, request] of routes(ids)) {
      const response = await call(B, request);
      const stranger = await call(B, missing.get(name)!);
      expect(response.status, name).toBe(404);
      expect(stranger.status, name).toBe(404);
      if (request.method !== 'HEAD') {
        expect(response.headers.get('content-type'), name).toContain('application/problem+json');
        const [mine, none] = [(await response.json()) as Record<string, string>, (await stranger.json()) as Record<string, string>];
        expect(mine.code, name).toBe('not_found');
        expect({ ...mine, detail: mine.detail?.replace(/(job|bat|whd|tpl)_[0-9a-z]{26}/, 'ID'), instance: '' }, name).toEqual({
          ...none,
          detail: none.detail?.replace(/(job|bat|whd|tpl)_[0-9a-z]{26}/, 'ID'),
          instance: '',
        });
      }
    }
  });

  it('covers every route of the API that takes an id', async () => {
    const spec = (await (await fetch(`${service.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths)
      .filter(([p]) => p.includes('{id}'))
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    const walked = new Set(routes(ids).map(([name]) => name.replace(/ \(.*\)$/, '')));
    for (const route of documented) expect(walked, route).toContain(route);
  });

  it("A's job is still as it was: B's cancel, retry and revision changed nothing", async () => {
    const job = (await (await call(A, { method: 'GET', path: `/v1/jobs/${ids.job}` })).json()) as { status: string };
    expect(job.status).toBe('succeeded');
    const list = (await (await call(A, { method: 'GET', path: '/v1/jobs' })).json()) as { data: { parent_id: string | null }[] };
    expect(list.data.some((j) => j.parent_id === ids.job)).toBe(false);
  });

  it("B cannot use A's upload: the same answer as a made-up upload id", async () => {
    const theirs = await postJob(service.url, { images: [`upload:${ids.upload}`] }, B);
    const none = await postJob(service.url, { images: [`upload:${MISSING.upload}`] }, B);
    expect(theirs.status).toBe(400);
    const [a, b] = [(await theirs.json()) as { detail: string }, (await none.json()) as { detail: string }];
    expect(a.detail.replace(ids.upload, 'ID')).toBe(b.detail.replace(MISSING.upload, 'ID'));
  });

  it("lists, filters, Idempotency-Keys and webhook secrets are the tenant's own", async () => {
    const jobs = (await (await call(B, { method: 'GET', path: '/v1/jobs' })).json()) as { data: { id: string }[] };
    expect(jobs.data.map((j) => j.id)).not.toContain(ids.job);
    const filtered = (await (await call(B, { method: 'GET', path: `/v1/webhooks/deliveries?job_id=${ids.job}` })).json()) as { data: unknown[] };
    expect(filtered.data).toEqual([]);
    const all = (await (await call(B, { method: 'GET', path: '/v1/webhooks/deliveries' })).json()) as { data: unknown[] };
    expect(all.data).toEqual([]);
    // the same key from B makes B's own job, not a replay of A's
    const replay = await postJob(service.url, { images: ['https://shop.example/a.jpg'] }, B, { 'idempotency-key': 'shared-key' });
    expect(replay.status).toBe(202);
    expect(((await replay.json()) as { id: string }).id).not.toBe(ids.job);
    const secretA = (await (await call(A, { method: 'GET', path: '/v1/webhooks/secret' })).json()) as { secret: string };
    const secretB = (await (await call(B, { method: 'GET', path: '/v1/webhooks/secret' })).json()) as { secret: string };
    expect(secretA.secret).not.toBe(secretB.secret);
  });
});
