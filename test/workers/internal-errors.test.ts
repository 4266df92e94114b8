import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

/** A service whose log lines are kept, failing fast (two attempts). */
async function startLogged(env: Record<string, string> = {}): Promise<{ service: TestService; log: string[] }> {
  const log: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log.push(chunk.toString('utf8'));
      done();
    },
  });
  const service = await startTestService({ engine: { noTextRate: 0 }, env: { LOG_LEVEL: 'warn', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100', ...env }, logDestination: destination });
  return { service, log };
}

async function runJob(service: TestService): Promise<Record<string, any>> {
  const form = new FormData();
  form.append('images', new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' }), 'p.jpg');
  form.append('options', JSON.stringify(SMALL));
  const created = (await (await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form })).json()) as { id: string };
  return waitForJob(service.url, created.id);
}

/**
 * Real faults whose errors carry internal text (a storage path, the backend's
 * address): the tenant reads the code's own message, the operator finds the
 * cause in the worker's log.
 */
describe('job.error tells the tenant what happened, never the internals', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('a storage path the worker cannot write: internal, without the path or the system error', async () => {
    const started = await startLogged();
    service = started.service;
    // outputs/ is a file, so storing outputs/<job>/video.mp4 fails with ENOTDIR and the full path
    await mkdir(service.config.STORAGE_DIR, { recursive: true });
    await writeFile(path.join(service.config.STORAGE_DIR, 'outputs'), 'not a folder');

    const job = await runJob(service);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'internal', retryable: true } });
    expect(job.error.message).not.toContain(service.dir);
    expect(job.error.message).not.toMatch(/ENOTDIR|mkdir|\/tmp\//);
    const logged = started.log.filter((line) => line.includes(job.id) && line.includes('ENOTDIR'));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('')).toContain(path.join(service.config.STORAGE_DIR, 'outputs'));

    // a record an older version failed with the raw cause is shown with the stable message too
    await service.records.update(job.id, { error: { code: 'internal', message: `EACCES: permission denied, open '${service.dir}/x'`, retryable: true } });
    const shown = (await (await fetch(`${service.url}/v1/jobs/${job.id}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as Record<string, any>;
    expect(shown.error).toEqual(job.error);
  });

  it("a backend that cannot be reached: backend_unavailable, without the backend's address or the socket error", async () => {
    const started = await startLogged({ BACKEND_URL: 'http://127.0.0.1:9' });
    service = started.service;

    const job = await runJob(service);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'backend_unavailable', retryable: true } });
    expect(job.error.message).toMatch(/^The render backend could not be reached/);
    expect(job.error.message).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED/);
    expect(started.log.some((line) => line.includes(job.id) && line.includes('ECONNREFUSED'))).toBe(true);
  });
});
