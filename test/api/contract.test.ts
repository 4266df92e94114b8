import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract } from '../helpers/contract.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver } from '../webhooks/receiver.ts';

const ADMIN_KEY = 'contract-test-admin-key';
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const MISSING_JOB = 'job_01jabcdefghjkmnpqrstvwxyz0';

/**
 * Every operation of openapi.yaml called on the live API, in its usual
 * successes and refusals; each reply's status, media type and body must be
 * what the document declares, as a client generated from it would expect.
 */
describe('the live API answers as openapi.yaml declares', () => {
  const contract = new Contract();
  let service: TestService;
  /** no worker: jobs stay queued; few requests a minute, small pictures only */
  let idle: TestService;
  let receiver: Receiver;
  let photo: Buffer;
  let photoUrl: string;
  let succeeded: Record<string, any>;
  let failed: Record<string, any>;

  const call = (target: TestService, route: string, init: RequestInit & { key?: string | null } = {}) => {
    const { key = 'dev-key', headers, ...rest } = init;
    return fetch(`${target.url}${route}`, { ...rest, headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(headers as Record<string, string>) } });
  };
  const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  /** the reply, checked against the document, and its status */
  const check = async (operationId: string, response: Promise<Response>, status: number) => {
    const checked = await contract.check(operationId, await response);
    expect(checked.status, operationId).toBe(status);
    return checked.body as Record<string, any>;
  };
  const photoForm = (field = 'images') => {
    const form = new FormData();
    form.append(field, new Blob([photo], { type: 'image/jpeg' }), 'front.jpg');
    return form;
  };

  beforeAll(async () => {
    service = await startTestService({ engine: { agentDelayMs: 0 }, env: { ADMIN_KEY } });
    idle = await startTestService({
      worker: false,
      env: { API_KEYS: 'dev=dev-key,burst=burst-key', RATE_LIMIT_PER_MINUTE: '20', MAX_IMAGE_PIXELS: '10000', BACKEND_URL: 'http://127.0.0.1:9' },
    });
    receiver = await new Receiver().start();
    photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240));
    photoUrl = receiver.serve('/p.jpg', 'image/jpeg', photo);
    const ok = (await (await call(service, '/v1/jobs', json({ images: [photoUrl], options: SMALL, webhook_url: `${receiver.url}/hook` }))).json()) as { id: string };
    const bad = (await (await call(service, '/v1/jobs', json({ images: [`${receiver.url}/missing.jpg`], options: SMALL }))).json()) as { id: string };
    succeeded = await waitForJob(service.url, ok.id);
    failed = await waitForJob(service.url, bad.id);
    expect(succeeded.status).toBe('succeeded');
    expect(failed.status).toBe('failed');
  });
  afterAll(async () => {
    receiver?.close();
    await idle?.close();
    await service?.close();
  });

  it('health and readiness', async () => {
    await check('getHealth', call(service, '/healthz', { key: null }), 200);
    await check('getReadiness', call(service, '/readyz', { key: null }), 200);
  });

  it('creates jobs from JSON and multipart, and refuses bad ones with problems', async () => {
    const created = await check('createJob', call(service, '/v1/jobs', json({ images: [photoUrl], options: SMALL }, { 'idempotency-key': 'contract-1' })), 202);
    const replayed = await check('createJob', call(service, '/v1/jobs', json({ images: [photoUrl], options: SMALL }, { 'idempotency-key': 'contract-1' })), 200);
    expect(replayed.id).toBe(created.id);
    await check('createJob', call(service, '/v1/jobs', json({ images: [photoUrl], options: { duration_s: 2 } }, { 'idempotency-key': 'contract-1' })), 409);
    await check('createJob', call(service, '/v1/jobs', { method: 'POST', body: photoForm() }), 202);
    await check('createJob', call(service, '/v1/jobs', json({ images: ['ftp://x/y.jpg'], extra: 1 })), 400);
    await check('createJob', call(service, '/v1/jobs', { ...json({ images: [photoUrl] }), key: 'wrong-key' }), 401);
    await check('createJob', call(service, '/v1/jobs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a picture please' }), 415);
    await check('createJob', call(service, '/v1/jobs', json({ images: [photoUrl], prompt: 'x'.repeat(1_100_000) })), 413);
    await check('createJob', call(idle, '/v1/jobs', { method: 'POST', body: photoForm() }), 422);
  });

  it('reads and lists jobs, finished well or badly', async () => {
    const ok = await check('getJob', call(service, `/v1/jobs/${succeeded.id}`), 200);
    expect(ok.result).not.toBeNull();
    const bad = await check('getJob', call(service, `/v1/jobs/${failed.id}`), 200);
    expect(bad.error).toMatchObject({ code: 'fetch_failed' });
    await check('getJob', call(service, `/v1/jobs/${MISSING_JOB}`), 404);
    await check('getJob', call(service, '/v1/jobs/not-an-id'), 400);
    await check('listJobs', call(service, '/v1/jobs?status=succeeded&limit=2'), 200);
    await check('listJobs', call(service, '/v1/jobs?colour=red'), 400);
  });

  it('cancels and retries', async () => {
    const queued = await check('createJob', call(idle, '/v1/jobs', json({ images: ['https://shop.example/a.jpg'] })), 202);
    await check('cancelJob', call(idle, `/v1/jobs/${queued.id}/cancel`, { method: 'POST' }), 200);
    await check('cancelJob', call(idle, `/v1/jobs/${queued.id}/cancel`, { method: 'POST' }), 409);
    await check('cancelJob', call(idle, `/v1/jobs/${MISSING_JOB}/cancel`, { method: 'POST' }), 404);
    await check('retryJob', call(idle, `/v1/jobs/${queued.id}/retry`, { method: 'POST' }), 200);
    await check('retryJob', call(service, `/v1/jobs/${succeeded.id}/retry`, { method: 'POST' }), 409);
  });

  it("serves a job's video and poster, whole, in ranges, unchanged, or not yet", async () => {
    await check('getJobVideo', call(service, `/v1/jobs/${succeeded.id}/video`), 200);
    await check('getJobVideo', call(service, `/v1/jobs/${succeeded.id}/video`, { headers: { range: 'bytes=0-99' } }), 206);
    await check('getJobVideo', call(service, `/v1/jobs/${succeeded.id}/video`, { headers: { range: 'bytes=999999999-' } }), 416);
    const etag = (await call(service, `/v1/jobs/${succeeded.id}/poster`)).headers.get('etag') as string;
    // fetch() would add Cache-Control: no-cache to a conditional request, so ask plainly
    const unchanged = await request(`${service.url}/v1/jobs/${succeeded.id}/poster`, { headers: { authorization: 'Bearer dev-key', 'if-none-match': etag } });
    const headers = new Headers(Object.entries(unchanged.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as [string, string]] : [])));
    await check('getJobPoster', Promise.resolve(new Response(null, { status: unchanged.statusCode, headers })), 304);
    await unchanged.body.dump();
    await check('getJobPoster', call(service, `/v1/jobs/${succeeded.id}/poster`), 200);
    await check('getJobVideo', call(service, `/v1/jobs/${failed.id}/video`), 409);
    await check('getJobPoster', call(service, `/v1/jobs/${MISSING_JOB}/poster`), 404);
    // a job's one video is its rendition 0
    await check('getJobOutputVideo', call(service, `/v1/jobs/${succeeded.id}/outputs/0/video`), 200);
    await check('getJobOutputVideo', call(service, `/v1/jobs/${succeeded.id}/outputs/0/video`, { headers: { range: 'bytes=0-99' } }), 206);
    await check('getJobOutputVideo', call(service, `/v1/jobs/${succeeded.id}/outputs/1/video`), 404);
    await check('getJobOutputPoster', call(service, `/v1/jobs/${succeeded.id}/outputs/0/poster`), 200);
    await check('getJobOutputPoster', call(service, `/v1/jobs/${failed.id}/outputs/0/poster`), 409);
  });

  it("streams a finished job's events and refuses an unknown job", async () => {
    await check('streamJobEvents', call(service, `/v1/jobs/${succeeded.id}/events`), 200);
    await check('streamJobEvents', call(service, `/v1/jobs/${MISSING_JOB}/events`), 404);
  });

  it('takes uploads and refuses what is not a file', async () => {
    const uploaded = await check('createUploads', call(service, '/v1/uploads', { method: 'POST', body: photoForm('file') }), 201);
    expect(uploaded.data).toHaveLength(1);
    const fieldOnly = new FormData();
    fieldOnly.append('note', 'no file here');
    await check('createUploads', call(service, '/v1/uploads', { method: 'POST', body: fieldOnly }), 400);
    await check('createUploads', call(service, '/v1/uploads', json({ file: 'x' })), 415);
  });

  it('creates, reads and cancels batches', async () => {
    const body = { items: [{ images: ['https://shop.example/a.jpg'] }, { images: ['https://shop.example/b.jpg'] }] };
    const batch = await check('createBatch', call(idle, '/v1/batches', json(body, { 'idempotency-key': 'contract-batch' })), 202);
    await check('createBatch', call(idle, '/v1/batches', json(body, { 'idempotency-key': 'contract-batch' })), 200);
    await check('createBatch', call(idle, '/v1/batches', json({ items: [] })), 400);
    await check('getBatch', call(idle, `/v1/batches/${batch.id}`), 200);
    await check('getBatch', call(idle, '/v1/batches/bat_01jabcdefghjkmnpqrstvwxyz0'), 404);
    await check('cancelBatch', call(idle, `/v1/batches/${batch.id}/cancel`, { method: 'POST' }), 200);
  });

  it('saves, versions, lists, reads and deletes templates, and makes jobs and batches from them', async () => {
    const body = { images: ['{{image_url}}'], options: SMALL, metadata: { sku: '{{sku}}' } };
    const template = await check('createTemplate', call(service, '/v1/templates', json({ name: 'card', body })), 201);
    await check('createTemplate', call(service, '/v1/templates', json({ body: { images: ['{{a b}}'] } })), 400);
    await check('createTemplateVersion', call(service, `/v1/templates/${template.id}/versions`, json({ body: { ...body, prompt: 'v2' } })), 201);
    await check('createTemplateVersion', call(service, '/v1/templates/tpl_01jabcdefghjkmnpqrstvwxyz0/versions', json({ body })), 404);
    await check('listTemplates', call(service, '/v1/templates?limit=1'), 200);
    await check('getTemplate', call(service, `/v1/templates/${template.id}`), 200);
    await check('getTemplateVersion', call(service, `/v1/templates/${template.id}/versions/1`), 200);
    await check('getTemplateVersion', call(service, `/v1/templates/${template.id}/versions/7`), 404);
    const job = await check('createJob', call(service, '/v1/jobs', json({ template_id: template.id, template_version: 1, merge: { image_url: photoUrl, sku: 'S-1' } })), 202);
    expect(job.template).toEqual({ id: template.id, version: 1 });
    await check('createJob', call(service, '/v1/jobs', json({ template_id: template.id, merge: { image_url: photoUrl } })), 422);
    await check('createBatch', call(service, '/v1/batches', json({ template_id: template.id, rows: [{ image_url: photoUrl, sku: 'S-2' }] })), 202);
    await check('createBatch', call(service, '/v1/batches', json({ template_id: template.id, rows: [{ image_url: photoUrl }] })), 422);
    await check('deleteTemplate', call(service, `/v1/templates/${template.id}`, { method: 'DELETE' }), 204);
    await check('deleteTemplate', call(service, `/v1/templates/${template.id}`, { method: 'DELETE' }), 404);
  });

  it('revises a succeeded job only', async () => {
    await check('createRevision', call(service, `/v1/jobs/${succeeded.id}/revisions`, json({ prompt: 'slower zoom' })), 202);
    await check('createRevision', call(service, `/v1/jobs/${failed.id}/revisions`, json({ prompt: 'slower zoom' })), 409);
    await check('createRevision', call(service, `/v1/jobs/${succeeded.id}/revisions`, json({ prompt: 1 })), 400);
  });

  it('shows credits once a worker has read them', async () => {
    await check('getCredits', call(idle, '/v1/credits'), 503);
    for (let seen = await call(service, '/v1/credits'); ; seen = await call(service, '/v1/credits')) {
      if (seen.status === 200) {
        await check('getCredits', Promise.resolve(seen), 200);
        break;
      }
      await seen.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('webhook secrets, deliveries and redelivery', async () => {
    await check('getWebhookSecret', call(service, '/v1/webhooks/secret'), 200);
    await check('rotateWebhookSecret', call(service, '/v1/webhooks/secret/rotate', { method: 'POST' }), 200);
    await check('acknowledgeWebhookSecret', call(service, '/v1/webhooks/secret/acknowledge', { method: 'POST' }), 200);
    await receiver.waitFor('/hook');
    const deliveries = await check('listWebhookDeliveries', call(service, `/v1/webhooks/deliveries?job_id=${succeeded.id}`), 200);
    await check('listWebhookDeliveries', call(service, '/v1/webhooks/deliveries?status=lost'), 400);
    await check('redeliverWebhook', call(service, `/v1/webhooks/deliveries/${deliveries.data[0].id}/redeliver`, { method: 'POST' }), 202);
    await check('redeliverWebhook', call(service, '/v1/webhooks/deliveries/whd_01jabcdefghjkmnpqrstvwxyz0/redeliver', { method: 'POST' }), 404);
  });

  it("the operator's routes take ADMIN_KEY only", async () => {
    await check('getMetrics', call(service, '/metrics', { key: ADMIN_KEY }), 200);
    await check('getMetrics', call(service, '/metrics'), 401);
    await check('getAdminStats', call(service, '/v1/admin/stats', { key: ADMIN_KEY }), 200);
    await check('getAdminStats', call(service, '/v1/admin/stats'), 401);
  });

  it('limits requests per key with a problem', async () => {
    let status = 0;
    for (let n = 0; n <= 20 && status !== 429; n++) {
      const response = await call(idle, `/v1/jobs/${MISSING_JOB}`, { key: 'burst-key' });
      status = response.status;
      if (status === 429) await check('getJob', Promise.resolve(response), 429);
      else await response.body?.cancel();
    }
    expect(status).toBe(429);
  });

  it('covered every operation of the document', () => {
    expect(contract.operationIds.filter((id) => !contract.seen.has(id))).toEqual([]);
  });
});
