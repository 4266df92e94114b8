import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { startStandInCloud, type StandInCloud } from '../helpers/stand-in-cloud.ts';

const auth = { authorization: 'Bearer dev-key' };

async function jobForm(photo: Buffer, options: unknown): Promise<FormData> {
  const form = new FormData();
  form.append('images', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  form.append('options', JSON.stringify(options));
  return form;
}

describe('renditions at the API: result.outputs and the refusals', () => {
  let service: TestService;
  let photo: Buffer;

  beforeAll(async () => {
    service = await startTestService();
    photo = await readFile(await makeTestImage(path.join(service.dir, 'photo.jpg'), 800, 600));
  });
  afterAll(async () => {
    await service?.close();
  });

  it('lists the one video of a job that asked for no renditions as its only output', async () => {
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }) });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 120_000);
    expect(job.result.outputs).toEqual([
      { aspect_ratio: '1:1', resolution: '720p', format: 'mp4', width: 720, height: 720, duration_s: job.result.duration_s, size_bytes: job.result.size_bytes, video_url: `${service.url}/v1/jobs/${job.id}/outputs/0/video`, poster_url: `${service.url}/v1/jobs/${job.id}/outputs/0/poster` },
    ]);
  }, 150_000);

  it('refuses a rendition asked for twice with 422 invalid_outputs, and stores nothing', async () => {
    const before = ((await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: unknown[] }).data.length;
    const outputs = [{ format: 'gif' }, { aspect_ratio: '1:1', format: 'mp4' }, { format: 'gif' }];
    const refused = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, { aspect_ratio: '1:1', outputs }) });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    // item 2 repeats item 0: both are the job's own 1:1 as a GIF
    expect(await refused.json()).toMatchObject({ code: 'invalid_outputs', duplicates: [2] });
    const after = ((await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: unknown[] }).data.length;
    expect(after).toBe(before);
    const tooMany = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, { outputs: Array.from({ length: 7 }, () => ({})) }) });
    expect(tooMany.status).toBe(400);
  });
});

describe('renditions from a backend that makes one video per render', () => {
  let cloud: StandInCloud;
  let service: TestService;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-renditions-cloud-'));
    cloud = await startStandInCloud({ dir });
    service = await startTestService({ backendUrl: () => cloud.url, env: { JOB_BACKOFF_MS: '100' } });
  });
  afterAll(async () => {
    await service?.close();
    await cloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails outputs_unsupported, not retryable, and renders once', async () => {
    const photo = await readFile(await makeTestImage(path.join(dir, 'photo.jpg'), 320, 240));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, { duration_s: 1, outputs: [{ format: 'mp4' }, { format: 'gif' }] }) });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 120_000);
    expect([job.status, job.error?.code, job.error?.retryable]).toEqual(['failed', 'outputs_unsupported', false]);
    expect(cloud.requestsOf('render')).toHaveLength(1);
  }, 150_000);
});
