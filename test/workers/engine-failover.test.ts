import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropEngineKeys, freePort, isRendering, spawnEngine, stopEngine, type EngineProcess } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';

const JOBS = 4;

describe('two engine processes and two workers, one engine SIGKILLed while its ffmpeg renders', () => {
  let service: TestService;
  let engines: EngineProcess[];
  let workers: ChildProcess[];

  beforeAll(async () => {
    // four jobs polled every 100 ms for up to a few minutes: over the default 600 requests a minute
    service = await startTestService({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    const dir = path.join(service.dir, 'engine');
    const first = await spawnEngine(await freePort(), dir);
    const second = await spawnEngine(await freePort(), dir, { ENGINE_REDIS_PREFIX: first.redisPrefix });
    engines = [first, second];
    // both workers list both engines (the same list: workers share the backend token of one BACKEND_URL), spread their calls over them and fail over from the one that dies
    const backendUrl = `${first.url},${second.url}`;
    workers = [spawnWorker(service.config, backendUrl), spawnWorker(service.config, backendUrl)];
  });
  afterAll(async () => {
    for (const worker of workers ?? []) await stopWorker(worker);
    for (const engine of engines ?? []) await stopEngine(engine, 'SIGKILL');
    if (engines?.[0]) await dropEngineKeys(engines[0].redisPrefix);
    await service?.close();
  });

  it('lets the other engine take the killed render over, and every job succeeds with one instruction each', async () => {
    const photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const form = new FormData();
      form.append('images', photo, 'p.jpg');
      form.append('options', JSON.stringify({ duration_s: 4, aspect_ratio: '1:1', resolution: '720p' }));
      const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
      ids.push(((await created.json()) as { id: string }).id);
    }
    // each engine takes one render at a time from the queue: the first one whose ffmpeg runs is killed
    let doomed: EngineProcess | undefined;
    while (!doomed) {
      for (const engine of engines) if (!doomed && (await isRendering(engine))) doomed = engine;
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopEngine(doomed, 'SIGKILL');
    const survivor = engines.find((engine) => engine !== doomed) as EngineProcess;

    const jobs = await Promise.all(ids.map((id) => waitForJob(service.url, id, 'dev-key', 180_000)));
    expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
    for (const job of jobs) expect(job.result.duration_s).toBeCloseTo(4, 0);
    const records = await Promise.all(ids.map((id) => service.records.get(id)));
    // the render was taken over under its own id: no render lost, none exported twice
    expect(records.map((record) => record?.checkpoint.rendersLost)).toEqual(ids.map(() => undefined));
    const renders = ((await (await fetch(`${survivor.url}/_engine/renders`)).json()) as { data: { renders: { runs: number }[] } }).data.renders;
    expect(renders.map((render) => render.runs).sort()).toEqual([1, 1, 1, 2]);
    const stats = ((await (await fetch(`${survivor.url}/_engine/stats`)).json()) as { data: { sessions: { instructions: number; renders: number }[] } }).data;
    expect(stats.sessions.map((s) => [s.instructions, s.renders])).toEqual(ids.map(() => [1, 1]));
  }, 200_000);
});
