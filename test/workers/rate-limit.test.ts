import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

/**
 * A 429's Retry-After holds the whole render queue, every free worker slot
 * included: with no limiter configured BullMQ ignores the manual rate limit,
 * and a second slot of the same worker took the job again at once.
 */
describe('a backend 429 with Retry-After', () => {
  let service: TestService;
  let photo: Blob;

  beforeAll(async () => {
    service = await startTestService({
      engine: { faults: true, noTextRate: 0, heartbeatMs: 10_000 },
      env: { WORKER_CONCURRENCY: '8', JOB_BACKOFF_MS: '100', JOB_ATTEMPTS: '4' },
    });
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 160, 120))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    await service?.close();
  });

  it.each([1, 2, 3, 4, 5])('is waited out by a worker with free slots (run %s)', async () => {
    await fetch(`${service.engineUrl}/_engine/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'reply', endpoint: 'create_session', code: 429, retry_after_s: 2 }),
    });
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id);
    expect(job.status).toBe('succeeded');
    expect(Date.parse(job.finished_at) - Date.parse(job.started_at)).toBeGreaterThanOrEqual(2000);
  });
});
