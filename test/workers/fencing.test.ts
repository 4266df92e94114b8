import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';

interface EngineStats {
  sessions: { id: string; instructions: number }[];
}

/** What a worker logs when its attempt at a job ends, whichever way it ends. */
const ATTEMPT_ENDS = new Set([
  'job succeeded',
  'job finished after it was canceled',
  'job attempt failed',
  'job is no longer runnable; skipping it',
  'another worker took this job over (this one lost its lock); this attempt stops without writing',
]);

/** Serves one picture; the first request waits until `release` is called, later ones are answered at once. */
function heldPictureServer(picture: Buffer) {
  let arrived!: () => void;
  let release!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let requests = 0;
  const server: Server = createServer(async (_request, response) => {
    if (++requests === 1) {
      arrived();
      await released;
    }
    response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': picture.length }).end(picture);
  });
  return { server, firstArrived, release };
}

/** Resolves with the first JSON log line of `child` that `match` accepts. */
function logLine(child: ChildProcess, match: (line: Record<string, any>) => boolean): Promise<Record<string, any>> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (text) => {
      const line = JSON.parse(text) as Record<string, any>;
      if (!match(line)) return;
      lines.close();
      resolve(line);
    });
  });
}

describe('a worker that lost its BullMQ lock to another worker', () => {
  let service: TestService;
  let redis: Redis;
  let picture: ReturnType<typeof heldPictureServer>;
  let pictureUrl: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    service = await startTestService({ worker: false, engine: { faults: true, noTextRate: 0 } });
    redis = createRedis(service.config.REDIS_URL);
    picture = heldPictureServer(await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    await new Promise<void>((resolve) => picture.server.listen(0, '127.0.0.1', resolve));
    pictureUrl = `http://127.0.0.1:${(picture.server.address() as { port: number }).port}/p.jpg`;
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGCONT');
    await Promise.all(children.map((child) => stopWorker(child, 'SIGKILL')));
    picture?.release();
    picture?.server.closeAllConnections();
    picture?.server.close();
    redis?.disconnect();
    await service?.close();
  });

  const engineStats = async () => ((await (await fetch(`${service.engineUrl}/_engine/stats`)).json()) as { data: EngineStats }).data;

  it('writes nothing to the record once resumed, and never sends the instruction a second time', async () => {
    const known = new Set((await engineStats()).sessions.map((session) => session.id));
    const env = { URL_FETCH_ALLOWLIST: '127.0.0.1', LOG_LEVEL: 'info' };
    const first = spawnWorker(service.config, service.engineUrl, env, { stdout: 'pipe' });
    children.push(first);
    const created = await postJob(service.url, { images: [pictureUrl], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' } });
    const { id } = (await created.json()) as { id: string };
    const firstEnds = logLine(first, (line) => line.job_id === id && ATTEMPT_ENDS.has(line.msg));

    // the first worker is inside the upload stage, fetching the picture; it freezes there past its lock
    await picture.firstArrived;
    first.kill('SIGSTOP');
    children.push(spawnWorker(service.config, service.engineUrl, env));
    const job = await waitForJob(service.url, id, 'dev-key', 60_000);
    expect(job.status).toBe('succeeded');
    const recordWhenDone = await redis.hgetall(service.records.key(id));

    first.kill('SIGCONT');
    picture.release();
    await firstEnds;

    const sessions = (await engineStats()).sessions.filter((session) => !known.has(session.id));
    expect(sessions.reduce((n, session) => n + session.instructions, 0)).toBe(1);
    expect(await redis.hgetall(service.records.key(id))).toEqual(recordWhenDone);
  });
});
