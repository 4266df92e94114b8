import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, JobRecords } from '../../src/shared/jobs/job-record.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { spawnWorker, stopWorker } from '../helpers/worker-process.ts';

interface EngineStats {
  sessions: { id: string; instructions: number; renders: number }[];
}

/** Where to kill the worker: when the job's record first satisfies `at`. */
const KILL_POINTS: { step: string; at: (job: JobRecord) => boolean; faults?: unknown[] }[] = [
  { step: 'connect', at: (job) => job.stage === 'connecting' },
  { step: 'upload', at: (job) => job.stage === 'uploading' },
  { step: 'instruct', at: (job) => job.stage === 'instructing', faults: [{ kind: 'slow-agent', seconds: 1 }] },
  { step: 'render', at: (job) => job.stage === 'rendering' && Boolean(job.checkpoint.renderId) },
  { step: 'poll', at: (job) => job.stage === 'rendering' && Boolean(job.checkpoint.renderStartedAt), faults: [{ kind: 'render-delay', seconds: 1 }] },
  { step: 'store', at: (job) => job.stage === 'storing' },
];

describe('workers killed with SIGKILL at every stage', () => {
  let service: TestService;
  let records: JobRecords;
  let photo: Blob;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // the API and the engine in this process; every worker is a child process
    service = await startTestService({ worker: false, engine: { faults: true, noTextRate: 0.3 } });
    records = service.records;
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => stopWorker(child, 'SIGKILL')));
    await service?.close();
  });

  const engine = async (method: string, route: string, body?: unknown) =>
    ((await (
      await fetch(`${service.engineUrl}${route}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json()) as { data: any }).data;

  const worker = () => {
    const child = spawnWorker(service.config, service.engineUrl);
    children.push(child);
    return child;
  };

  it.each(KILL_POINTS.map((point) => [point.step, point] as const))('a worker killed at %s is replaced; the job succeeds with one instruction and one render', async (_step, point) => {
    const before = (await engine('GET', '/_engine/stats')) as EngineStats;
    if (point.faults) await engine('POST', '/_engine/faults', point.faults);
    const victim = worker();
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    const { id } = (await created.json()) as { id: string };

    // the second worker starts once the victim has taken the job, so it is running when the victim dies
    for (let job = await records.get(id); job?.status !== 'running'; job = await records.get(id)) await new Promise((r) => setTimeout(r, 2));
    const rescuer = worker();
    for (let job = await records.get(id); !job || !point.at(job); job = await records.get(id)) {
      expect(job?.status).not.toBe('succeeded');
      await new Promise((r) => setTimeout(r, 5));
    }
    await stopWorker(victim, 'SIGKILL');
    const job = await waitForJob(service.url, id, 'dev-key', 60_000);
    await stopWorker(rescuer);

    expect(job.status).toBe('succeeded');
    const after = (await engine('GET', '/_engine/stats')) as EngineStats;
    const known = new Set(before.sessions.map((s) => s.id));
    const sessions = after.sessions.filter((s) => !known.has(s.id));
    expect(sessions.reduce((n, s) => n + s.instructions, 0)).toBe(1);
    expect(sessions.reduce((n, s) => n + s.renders, 0)).toBe(1);
  });

  it('a worker stopped with SIGTERM exits after SHUTDOWN_GRACE_S, and another finishes its job with one instruction', async () => {
    const before = (await engine('GET', '/_engine/stats')) as EngineStats;
    await engine('POST', '/_engine/faults', { kind: 'slow-agent', seconds: 3 });
    const leaving = spawnWorker(service.config, service.engineUrl, { SHUTDOWN_GRACE_S: '0.5' });
    children.push(leaving);
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const { id } = (await (await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form })).json()) as { id: string };
    for (let job = await records.get(id); job?.stage !== 'instructing'; job = await records.get(id)) await new Promise((r) => setTimeout(r, 10));

    const exited = new Promise<number | null>((resolve) => leaving.once('exit', (code) => resolve(code)));
    leaving.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await records.get(id))?.status).toBe('running');

    const rescuer = worker();
    const job = await waitForJob(service.url, id, 'dev-key', 60_000);
    await stopWorker(rescuer);
    expect(job.status).toBe('succeeded');
    const after = (await engine('GET', '/_engine/stats')) as EngineStats;
    const known = new Set(before.sessions.map((s) => s.id));
    expect(after.sessions.filter((s) => !known.has(s.id)).reduce((n, s) => n + s.instructions, 0)).toBe(1);
  });
});
