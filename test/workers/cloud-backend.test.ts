import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { startStandInCloud, type StandInCloud, type StandInCloudOptions } from '../helpers/stand-in-cloud.ts';

/**
 * Jobs through the real API and worker against a stand-in for the seeds'
 * cloud backend (test/helpers/stand-in-cloud.ts), which knows nothing of the
 * embedded engine's drafts or replies (issue 21).
 */

interface CloudService {
  cloud: StandInCloud;
  service: TestService;
  photo: Blob;
  close(): Promise<void>;
}

async function startCloudService(cloudOptions: Omit<StandInCloudOptions, 'dir'> = {}, env: Record<string, string> = {}): Promise<CloudService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'i2v-cloud-'));
  const cloud = await startStandInCloud({ dir, ...cloudOptions });
  const service = await startTestService({ backendUrl: () => cloud.url, env: { JOB_BACKOFF_MS: '100', ...env } });
  const photo = new Blob([await readFile(await makeTestImage(path.join(dir, 'photo.jpg'), 320, 240))], { type: 'image/jpeg' });
  return {
    cloud,
    service,
    photo,
    async close() {
      await service.close();
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function runJob({ service, photo }: CloudService, fields: Record<string, string> = {}): Promise<Record<string, any>> {
  const form = new FormData();
  form.append('images', photo, 'photo.jpg');
  form.append('prompt', 'Animate this image with a slow zoom and subtle motion.');
  form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '16:9', resolution: '720p' }));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
  expect(created.status).toBe(202);
  return waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 120_000);
}

describe('a cloud draft that has only what the protocol defines', () => {
  let run: CloudService;

  beforeAll(async () => {
    run = await startCloudService({ replies: 'text' });
  });
  afterAll(async () => {
    await run?.close();
  });

  it('is rendered: the job succeeds with a summary of its tracks (item 1)', async () => {
    const job = await runJob(run);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.result.timeline_summary).toBe('Timeline (1 track): 1. Video: image (0-5s)');
  });

  it("reaches the render request as the state's own bytes, unknown keys and escapes included (item 2)", async () => {
    const job = await runJob(run);
    expect(job.status).toBe('succeeded');
    const served = run.cloud.servedDrafts.at(-1) as string;
    expect(served).toContain('"effects": [');
    expect(served).toContain('\\u00e9');
    expect(run.cloud.renderedDrafts.at(-1)).toBe(served);
  });
});

describe('an edit answered with tool events only', () => {
  let run: CloudService;

  beforeAll(async () => {
    run = await startCloudService({ replies: 'tools', lateStateMs: 1500 });
  });
  afterAll(async () => {
    await run?.close();
  });

  it('is found in the state when it shows a moment later (item 3)', async () => {
    const job = await runJob(run);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(run.cloud.requestsOf('run_sse')).toHaveLength(1);
    expect(run.cloud.requestsOf('state').length).toBeGreaterThan(2);
  });
});
