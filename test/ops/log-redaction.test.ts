import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver } from '../webhooks/receiver.ts';

const API_KEY = `ak_live_${randomBytes(16).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const BACKEND_TOKEN = `nemo_${randomBytes(16).toString('hex')}`;
const ADMIN_KEY = `adm_${randomBytes(16).toString('hex')}`;
const URL_SIGNATURE = randomBytes(32).toString('hex');
const URL_CREDENTIAL = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const HOOK_TOKEN = `hook_${randomBytes(12).toString('hex')}`;
const QUERY_TOKEN = `qt_${randomBytes(12).toString('hex')}`;
const SECRETS = { API_KEY, WEBHOOK_SECRET, 'the secret without its prefix': WEBHOOK_SECRET.slice(6), BACKEND_TOKEN, ADMIN_KEY, URL_SIGNATURE, URL_CREDENTIAL, HOOK_TOKEN, QUERY_TOKEN };

const STAGES = [
  { step: 'connect', stage: 'connecting' },
  { step: 'upload', stage: 'uploading' },
  { step: 'instruct', stage: 'instructing' },
  { step: 'render', stage: 'rendering' },
  { step: 'poll', stage: 'rendering' },
  { step: 'store', stage: 'storing' },
];

describe('logs: JSON lines with job, tenant, stage and attempt; secrets never written', () => {
  let service: TestService;
  let receiver: Receiver;
  const captured: string[] = [];
  let lines: Record<string, any>[] = [];
  let jobId = '';
  let failedJobId = '';

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        captured.push(chunk.toString('utf8'));
        done();
      },
    });
    service = await startTestService({
      engine: { noTextRate: 0, staticTokens: [BACKEND_TOKEN] },
      env: { LOG_LEVEL: 'trace', API_KEYS: `acme=${API_KEY}`, WEBHOOK_SECRETS: `acme=${WEBHOOK_SECRET}`, NEMO_TOKEN: BACKEND_TOKEN, ADMIN_KEY },
      logDestination: destination,
    });
    receiver = await new Receiver().start();
    const signed = `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${URL_CREDENTIAL}%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${URL_SIGNATURE}`;
    const imageUrl = receiver.serve(`/photo.jpg${signed}`, 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    const hook = receiver.answer(`/hook?token=${HOOK_TOKEN}`, () => ({ status: 200 }));

    const created = await postJob(service.url, { images: [imageUrl], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }, webhook_url: hook }, API_KEY);
    expect(created.status).toBe(202);
    jobId = ((await created.json()) as { id: string }).id;
    expect((await waitForJob(service.url, jobId, API_KEY)).status).toBe('succeeded');
    // a signed URL that answers 404: the job fails, and its error is logged
    const failing = await postJob(service.url, { images: [`${receiver.url}/gone.jpg${signed}`], webhook_url: hook }, API_KEY);
    failedJobId = ((await failing.json()) as { id: string }).id;
    expect((await waitForJob(service.url, failedJobId, API_KEY)).status).toBe('failed');
    // a URL carrying a token, and the operator's routes with the admin key
    await fetch(`${service.url}/v1/jobs/${jobId}?token=${QUERY_TOKEN}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await fetch(`${service.url}/v1/jobs`, { headers: { authorization: `Bearer ${API_KEY}x` } });
    await receiver.waitFor(`/hook?token=${HOOK_TOKEN}`, 2);
    // the delivery's log line is written after the receiver answers
    const deadline = Date.now() + 10_000;
    while (!captured.join('').includes('"webhook attempt"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    lines = captured.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
  });
  afterAll(async () => {
    receiver?.close();
    await service?.close();
  });

  it('writes one JSON object per line, plenty of them at trace level', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(typeof line.msg === 'string' && typeof line.level === 'number').toBe(true);
  });

  it('never writes an API key, a webhook secret, a backend token, the admin key or a signed URL', () => {
    const text = captured.join('');
    for (const [what, secret] of Object.entries(SECRETS)) expect(text.includes(secret), what).toBe(false);
  });

  it('logs each stage transition with job_id, tenant, stage and attempt', () => {
    for (const { step, stage } of STAGES) {
      const line = lines.find((l) => l.job_id === jobId && l.step === step && l.msg === 'stage started');
      expect(line, step).toMatchObject({ job_id: jobId, tenant: 'acme', stage, attempt: 1 });
    }
    expect(lines.find((l) => l.job_id === jobId && l.msg === 'job succeeded')).toMatchObject({ tenant: 'acme', stage: 'done', attempt: 1 });
    const failedAttempt = { job_id: failedJobId, tenant: 'acme', stage: 'uploading', attempt: 1, code: 'fetch_failed' };
    expect(lines.find((l) => l.job_id === failedJobId && l.msg === 'job attempt failed')).toMatchObject(failedAttempt);
    expect(lines.find((l) => l.job_id === failedJobId && l.msg === 'job failed')).toMatchObject(failedAttempt);
  });

  it('logs one line per request, with its route, status, tenant and job, and the URL without its token', () => {
    const created = lines.filter((l) => l.msg === 'request' && l.method === 'POST' && l.route === '/v1/jobs');
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({ status: 202, tenant: 'acme', job_id: jobId });
    const withToken = lines.find((l) => l.msg === 'request' && typeof l.url === 'string' && l.url.includes('token='));
    expect(withToken).toMatchObject({ route: '/v1/jobs/:id', status: 200, job_id: jobId, url: `/v1/jobs/${jobId}?token=[redacted]` });
    expect(lines.find((l) => l.msg === 'request' && l.route === '/metrics')).toMatchObject({ status: 200 });
    expect(lines.find((l) => l.msg === 'request' && l.status === 401)).toMatchObject({ route: '/v1/jobs' });
    expect(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toEqual([]);
  });

  it("logs webhook deliveries with the event's job and tenant", () => {
    expect(lines.find((l) => l.msg === 'webhook attempt' && l.job_id === jobId)).toMatchObject({ tenant: 'acme', status: 'delivered', attempt: 1 });
  });
});
