import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLargePhoto } from '../helpers/media.ts';
import { startClosingServer, startPythonFileServer, type Peer } from '../helpers/peers.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';
import type { ChildProcess } from 'node:child_process';

// The report: one URL job for a 3.6 MB JPEG from a server that closes the
// socket right after the body killed the API and the worker in one process.
describe('URL inputs from ordinary file servers', () => {
  let service: TestService;
  let photos: string;
  let closing: Peer;
  let python: Peer;
  let worker: ChildProcess;

  beforeAll(async () => {
    photos = await mkdtemp(path.join(tmpdir(), 'i2v-photos-'));
    await makeLargePhoto(path.join(photos, 'product.jpg'));
    closing = await startClosingServer(photos);
    python = await startPythonFileServer(photos);
    // the worker in its own process, as in production: the test sees it die
    service = await startTestService({ worker: false });
    worker = spawnWorker(service.config, service.engineUrl, { URL_FETCH_ALLOWLIST: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await service?.close();
    await closing?.close();
    await python?.close();
    await rm(photos, { recursive: true, force: true });
  });

  it('the photo is a few MB, as a shop original is', async () => {
    expect((await stat(path.join(photos, 'product.jpg'))).size).toBeGreaterThan(2_500_000);
  });

  it('jobs from a Connection: close server and from python3 -m http.server all succeed, and the worker process that fetched them is still up', async () => {
    const ids: string[] = [];
    for (const peer of [closing, python, closing, python]) {
      const response = await postJob(service.url, { images: [`${peer.url}/product.jpg`], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' } });
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as { id: string }).id);
    }
    for (const id of ids) {
      const job = await waitForJob(service.url, id, 'dev-key', 90_000);
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      expect(job.result.width).toBe(720);
    }
    expect(worker.exitCode, 'the worker process exited').toBeNull();
    expect(worker.signalCode).toBeNull();
  }, 180_000);
});
