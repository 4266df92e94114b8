import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as queueDefinitions from '../../src/shared/infra/queues.ts';
import * as webhookDefinitions from '../../src/shared/webhooks/events.ts';
import { postJob, startTestService, type TestService } from '../helpers/service.ts';

const ADMIN_KEY = 'admin-key-for-the-dashboard-test';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', ADMIN_KEY);

/** Every queue the code names (the exported `*_QUEUE` constants), so a queue added later without a place on the dashboard fails here. */
const PROJECT_QUEUES = [...Object.entries(queueDefinitions), ...Object.entries(webhookDefinitions)]
  .filter(([name]) => name.endsWith('_QUEUE'))
  .map(([, value]) => value as string)
  .sort();

describe('queue dashboard at /admin/queues (ADMIN_KEY set)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ env: { ADMIN_KEY, API_KEYS: 'shop=shop-key' }, worker: false });
  });
  afterAll(async () => {
    await service?.close();
  });

  const get = (path: string, authorization?: string) => fetch(`${service.url}${path}`, { headers: authorization ? { authorization } : {} });

  it('asks a browser for the admin key (401, Basic challenge, problem+json)', async () => {
    const response = await get('/admin/queues');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="i2v admin"');
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('refuses a wrong password, another user name, and a tenant API key', async () => {
    for (const authorization of [basic('admin', 'not-the-admin-key-at-all'), basic('root', ADMIN_KEY), 'Bearer shop-key', basic('admin', '')]) {
      const response = await get('/admin/queues', authorization);
      expect(response.status, authorization).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe('unauthorized');
    }
  });

  it('serves the dashboard page and its assets with the admin key', async () => {
    const response = await get('/admin/queues', ADMIN);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<base href="/admin/queues/"');
    expect(html).toContain('i2v queues');
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await get(`/admin/queues/${script}`)).status).toBe(401);
    const asset = await get(`/admin/queues/${script}`, ADMIN);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('lists every queue of the project, read-only, and shows a waiting job', async () => {
    const created = await postJob(service.url, { images: ['https://shop.example/p.jpg'] }, 'shop-key');
    expect(created.status).toBe(202);
    const response = await get('/admin/queues/api/queues', ADMIN);
    expect(response.status).toBe(200);
    const { queues } = (await response.json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[] };
    expect(queues.map((queue) => queue.name).sort()).toEqual(PROJECT_QUEUES);
    expect(queues.every((queue) => queue.readOnlyMode)).toBe(true);
    expect(queues.find((queue) => queue.name === 'render')?.counts.waiting).toBe(1);
  });

  it("lists the waiting job under the render queue's Waiting tab, which is its only place (every render job carries a priority)", async () => {
    const response = await get('/admin/queues/api/queues?activeQueue=render&status=waiting&page=1&jobsPerPage=10', ADMIN);
    const { queues } = (await response.json()) as { queues: { name: string; statuses: string[]; jobs: { id: string }[] }[] };
    const render = queues.find((queue) => queue.name === 'render');
    expect(render?.jobs.length).toBe(1);
    expect(render?.statuses).not.toContain('prioritized');
  });

  it('takes the admin key as a Bearer token too', async () => {
    expect((await get('/admin/queues/api/queues', `Bearer ${ADMIN_KEY}`)).status).toBe(200);
    expect((await get('/admin/queues/api/queues', 'Bearer shop-key')).status).toBe(401);
  });

  it('keeps the dashboard out of the OpenAPI document, which lists the admin JSON routes', async () => {
    const document = (await (await get('/openapi.json')).json()) as { paths: Record<string, unknown> };
    const paths = Object.keys(document.paths);
    expect(paths).toEqual(expect.arrayContaining(['/metrics', '/v1/admin/stats']));
    expect(paths.filter((path) => path.startsWith('/admin'))).toEqual([]);
  });
});

describe('without ADMIN_KEY', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ worker: false });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('has no admin routes: 404 even for a valid API key', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/metrics', '/v1/admin/stats']) {
      const response = await fetch(`${service.url}${path}`, { headers: { authorization: 'Bearer dev-key' } });
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { code: string }).code).toBe('not_found');
    }
  });
});
