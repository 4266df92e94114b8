import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord, JobRecords } from '../../src/shared/jobs/job-record.ts';
import { renderIdFor } from '../../src/workers/stages/render.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

interface EngineStats {
  tokens_issued: number;
  sessions: { id: string; instructions: number; renders: number }[];
}

/** Every row of the protocol's error table and every engine fault, met by a real job. */
describe('the lifecycle meets every backend error and fault', () => {
  let service: TestService;
  let records: JobRecords;
  let photo: Blob;

  beforeAll(async () => {
    service = await startTestService({
      engine: { faults: true, noTextRate: 0, heartbeatMs: 10_000 },
      env: { JOB_BACKOFF_MS: '100', JOB_ATTEMPTS: '4', SSE_IDLE_TIMEOUT_S: '1' },
    });
    records = service.records;
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    await service?.close();
  });
  beforeEach(async () => {
    await engine('DELETE', '/_engine/faults');
  });

  async function engine(method: string, route: string, body?: unknown): Promise<any> {
    const response = await fetch(`${service.engineUrl}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return ((await response.json()) as { data: unknown }).data;
  }
  const arm = (rule: unknown) => engine('POST', '/_engine/faults', rule);
  const stats = (): Promise<EngineStats> => engine('GET', '/_engine/stats');

  /** Submits one small job; returns its id. */
  async function submitJob(): Promise<string> {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    return ((await created.json()) as { id: string }).id;
  }

  /** Waits until the job's record (checkpoints included) satisfies `reached`. */
  async function untilRecord(id: string, reached: (job: JobRecord) => boolean): Promise<void> {
    for (let job = await records.get(id); !job || !reached(job); job = await records.get(id)) await new Promise((r) => setTimeout(r, 20));
  }

  /** Runs one small job to its end; returns it with what the engine did for it. */
  async function runJob(): Promise<{ job: Record<string, any>; instructions: number; renders: number; sessions: number }> {
    const before = await stats();
    const job = await waitForJob(service.url, await submitJob());
    const after = await stats();
    const known = new Set(before.sessions.map((s) => s.id));
    const fresh = after.sessions.filter((s) => !known.has(s.id));
    const record = await records.get(job.id);
    expect(record?.status).toBe(job.status);
    return {
      job,
      instructions: fresh.reduce((n, s) => n + s.instructions, 0),
      renders: fresh.reduce((n, s) => n + s.renders, 0),
      sessions: fresh.length,
    };
  }

  it('1001: a rejected token is replaced (anonymous) and the job goes on', async () => {
    await runJob();
    const tokensBefore = (await stats()).tokens_issued;
    await engine('POST', '/_engine/faults', { kind: 'expire-tokens' });
    const { job, instructions, renders } = await runJob();
    expect(job.status).toBe('succeeded');
    expect((await stats()).tokens_issued).toBe(tokensBefore + 1);
    expect([instructions, renders]).toEqual([1, 1]);
  });

  it('1002: a lost session is replaced and the job redone from upload, sending the instruction once', async () => {
    await arm({ kind: 'reply', endpoint: 'state', code: 1002 });
    const { job, instructions, renders, sessions } = await runJob();
    expect(job.status).toBe('succeeded');
    expect(sessions).toBe(2);
    expect([instructions, renders]).toEqual([1, 1]);
  });

  it('2001: out of credits fails the job clearly, with the registration link of the anonymous user', async () => {
    await arm({ kind: 'reply', endpoint: 'run_sse', code: 2001 });
    const { job, renders } = await runJob();
    expect(job).toMatchObject({ status: 'failed', error: { code: 'backend_out_of_credits', retryable: false } });
    expect(job.error.message).toMatch(/\?bind=anon_/);
    expect(renders).toBe(0);
  });

  it('402: an export blocked by the plan fails as a plan problem, not a credits one', async () => {
    await arm({ kind: 'reply', endpoint: 'render_start', code: 402 });
    const { job, instructions } = await runJob();
    expect(job).toMatchObject({ status: 'failed', error: { code: 'backend_plan_blocked' } });
    expect(job.error.message).toContain('not a credits problem');
    expect(instructions).toBe(1);
  });

  it.each([
    [4001, 'unsupported_media'],
    [4002, 'media_too_large'],
  ])('%s at upload fails the job as %s without retrying', async (code, expected) => {
    await arm({ kind: 'reply', endpoint: 'upload', code, times: 5 });
    const { job, instructions } = await runJob();
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: expected, retryable: false } });
    expect(instructions).toBe(0);
  });

  it('400 (missing client id) and 5xx are retried with backoff until they pass', async () => {
    await arm([
      { kind: 'reply', endpoint: 'create_session', code: 400 },
      { kind: 'reply', endpoint: 'render_poll', code: 503, times: 2 },
    ]);
    const { job, instructions, renders } = await runJob();
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect([instructions, renders]).toEqual([1, 1]);
  });

  it('429: the queue waits out Retry-After and the job then succeeds', async () => {
    await arm({ kind: 'reply', endpoint: 'create_session', code: 429, retry_after_s: 1 });
    const { job } = await runJob();
    expect(job.status).toBe('succeeded');
    expect(Date.parse(job.finished_at) - Date.parse(job.started_at)).toBeGreaterThanOrEqual(1000);
  });

  it('a failed render is replaced by one new render; a second failure fails the job', async () => {
    await arm({ kind: 'render-fail' });
    const once = await runJob();
    expect(once.job.status).toBe('succeeded');
    expect([once.instructions, once.renders]).toEqual([1, 2]);

    await arm({ kind: 'render-fail', times: 2 });
    const twice = await runJob();
    expect(twice.job).toMatchObject({ status: 'failed', error: { code: 'render_failed' } });
    expect([twice.instructions, twice.renders]).toEqual([1, 2]);
  });

  it('a render the backend forgot (404 on poll) is exported again from the saved draft under a new id, in the same attempt and session, with one instruction', async () => {
    await arm({ kind: 'render-delay', seconds: 3 });
    const id = await submitJob();
    await untilRecord(id, (job) => Boolean(job.checkpoint.renderStartedAt));
    await engine('POST', '/_engine/faults', { kind: 'forget-renders' });
    const job = await waitForJob(service.url, id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
    const { checkpoint } = (await records.get(id)) as JobRecord;
    expect(checkpoint.renderId).toBe(renderIdFor(id, 2));
    const session = (await stats()).sessions.find((s) => s.id === checkpoint.sessionId);
    expect(session).toMatchObject({ instructions: 1, renders: 1 });
  });

  it('a render lost a second time fails the job as render_lost, with one instruction', async () => {
    await arm({ kind: 'render-delay', seconds: 3, times: 2 });
    const id = await submitJob();
    await untilRecord(id, (job) => Boolean(job.checkpoint.renderStartedAt));
    await engine('POST', '/_engine/faults', { kind: 'forget-renders' });
    await untilRecord(id, (job) => job.checkpoint.renderId === renderIdFor(id, 2) && Boolean(job.checkpoint.renderStartedAt));
    await engine('POST', '/_engine/faults', { kind: 'forget-renders' });
    const job = await waitForJob(service.url, id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'render_lost', retryable: false } });
    const { checkpoint } = (await records.get(id)) as JobRecord;
    expect((await stats()).sessions.find((s) => s.id === checkpoint.sessionId)).toMatchObject({ instructions: 1 });
  });

  it('cancelling a job while it renders cancels the render at the backend too', async () => {
    await arm({ kind: 'render-delay', seconds: 3 });
    const id = await submitJob();
    await untilRecord(id, (job) => Boolean(job.checkpoint.renderStartedAt));
    const canceled = await fetch(`${service.url}/v1/jobs/${id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer dev-key' } });
    expect(canceled.status).toBe(200);
    const renderId = (await records.get(id))?.checkpoint.renderId;
    let render: { status: string; error: string | null } | undefined;
    for (let i = 0; i < 100 && render?.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      render = ((await engine('GET', '/_engine/renders')) as { renders: { id: string; status: string; error: string | null }[] }).renders.find((r) => r.id === renderId);
    }
    expect(render).toMatchObject({ status: 'failed', error: 'canceled' });
    expect((await records.get(id))?.status).toBe('canceled');
  });

  it('a dropped stream, a reply without text, a stream gone quiet and a slow render all end with one instruction and one render', async () => {
    const rules = [{ kind: 'drop-stream', after_events: 1 }, { kind: 'no-text' }, { kind: 'slow-agent', seconds: 2.5 }, { kind: 'render-delay', seconds: 1.5 }];
    for (const rule of rules) {
      await arm(rule);
      const { job, instructions, renders } = await runJob();
      expect(job.status, JSON.stringify(rule)).toBe('succeeded');
      expect([instructions, renders], JSON.stringify(rule)).toEqual([1, 1]);
    }
  });
});
