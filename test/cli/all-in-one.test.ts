import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAllInOne } from '../../src/cli/all-in-one.ts';
import { redisAnswers } from '../../src/cli/private-redis.ts';
import { loadConfig } from '../../src/shared/infra/config.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { makeTestImage } from '../helpers/media.ts';
import { waitForJob } from '../helpers/service.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));

type LogLine = Record<string, any>;

/** `i2v serve` as a real process; its log lines (its own and its parts', on one stdout) are kept as they arrive. */
class Serve {
  readonly lines: LogLine[] = [];
  private readonly waiting = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as LogLine);
      } catch {
        return; // a stack trace, a warning
      }
      for (const check of this.waiting) check();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.waiting.forEach((check) => check()));
  }

  static start(env: Record<string, string>): Serve {
    return new Serve(spawn(process.execPath, [BIN, 'serve'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'inherit'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line (seen or to come) that `matches`; fails when the process exits first. */
  line(matches: (line: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(matches);
        if (found || !this.running) this.waiting.delete(check);
        if (found) resolve(found);
        else if (!this.running) reject(new Error(`i2v serve exited before the expected line; it logged:\n${this.lines.map((l) => l.msg).join('\n')}`));
      };
      this.waiting.add(check);
      check();
    });
  }

  /** A part's pid and URL now, from the supervisor's latest 'ready' line; with `restarts`, once it is back from that many. */
  async part(name: string, restarts = 0): Promise<{ pid: number; url?: string }> {
    const isReady = (l: LogLine) => l.component === 'supervisor' && l.part === name && l.msg === `${name} ready`;
    if (restarts > 0) await this.line((l) => isReady(l) && l.restarts >= restarts);
    // 'i2v is up' comes after every part's first 'ready'
    const ready = this.lines.filter(isReady).at(-1);
    if (!ready) throw new Error(`no line of the supervisor says that the ${name} process is ready`);
    return { pid: ready.pid, url: ready.url };
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** The process's parent, or undefined once it is gone (a zombie counts as gone). */
function parentOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(/\s+/);
    return fields[0] === 'Z' ? undefined : Number(fields[1]);
  } catch {
    return undefined;
  }
}

async function untilGone(pid: number): Promise<void> {
  while (parentOf(pid) !== undefined) await sleep(50);
}

function serveEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    PORT: '0',
    STORAGE_DIR: path.join(dir, 'storage'),
    ENGINE_DIR: path.join(dir, 'engine'),
    LOG_LEVEL: 'info',
    BACKEND_POLL_INTERVAL_MS: '100',
    // a killed worker's job is picked up again quickly
    WORKER_LOCK_MS: '1500',
    WORKER_STALLED_INTERVAL_MS: '500',
    JOB_BACKOFF_MS: '100',
    // every job here sends the same photo and options: each must really render (the SIGKILL test waits for its job's 'rendering' stage)
    RENDER_CACHE: 'false',
    ...extra,
  };
}

describe('the all-in-one process', () => {
  it('starts a private redis-server when none answers at REDIS_URL, and stops it on close', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-aio-'));
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', STORAGE_DIR: dir, ENGINE_DIR: path.join(dir, 'engine'), LOG_LEVEL: 'silent' });
    const service = await startAllInOne(config, createLogger({ level: 'silent' }));
    try {
      expect(service.config.REDIS_URL).not.toBe('redis://127.0.0.1:1');
      expect(await redisAnswers(service.config.REDIS_URL)).toBe(true);
      const health = await fetch(`${service.api.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(await redisAnswers(service.config.REDIS_URL)).toBe(false);
  });
});

describe('`i2v serve`: API, worker and engine in child processes under a supervisor', () => {
  let dir: string;
  let serve: Serve;
  let api: string;
  let photo: Blob;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-serve-'));
    photo = new Blob([await readFile(await makeTestImage(path.join(dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
    serve = Serve.start(serveEnv(dir, { ENGINE_FAULTS: 'true' }));
    api = (await serve.line((l) => l.msg === 'i2v is up')).url;
  });
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const submit = async () => {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${api}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    expect(created.status).toBe(202);
    return ((await created.json()) as { id: string }).id;
  };
  const readiness = async () => {
    const response = await fetch(`${api}/readyz`);
    return { status: response.status, body: await response.json() };
  };

  it('runs each part as its own child process, and /readyz answers 200 with backend true: it probes the engine the parts use', async () => {
    expect(await readiness()).toEqual({ status: 200, body: { status: 'ready', redis: true, backend: true } });
    for (const name of ['api', 'worker', 'engine']) expect(parentOf((await serve.part(name)).pid), name).toBe(serve.pid);
    expect((await waitForJob(api, await submit())).status).toBe('succeeded');
  });

  it('restarts a worker killed with SIGKILL mid-job and logs why; the API keeps answering, that job and one submitted after succeed', async () => {
    const worker = await serve.part('worker');
    const engine = (await serve.part('engine')).url!;
    // the render waits, so the worker is surely holding the job when it dies
    await fetch(`${engine}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ kind: 'render-delay', seconds: 2 }]) });
    const held = await submit();
    for (let job = await jobOf(held); job.stage !== 'rendering'; job = await jobOf(held)) {
      expect(['queued', 'running'], 'the job ended before its render started').toContain(job.status);
      await sleep(20);
    }
    process.kill(worker.pid, 'SIGKILL');

    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    const death = await serve.line((l) => l.part === 'worker' && l.pid === worker.pid && l.signal === 'SIGKILL');
    expect(death).toMatchObject({ level: 50, code: null, restarts: 1, msg: expect.stringContaining('worker exited unexpectedly (killed by SIGKILL)') });
    const replacement = await serve.part('worker', 1);
    expect(replacement.pid).not.toBe(worker.pid);
    expect(parentOf(replacement.pid)).toBe(serve.pid);

    expect((await waitForJob(api, held)).status).toBe('succeeded');
    expect((await waitForJob(api, await submit())).status).toBe('succeeded');
  });

  it('restarts an engine killed with SIGKILL on the same URL; /readyz is 200 with backend true again and a job submitted after succeeds', async () => {
    const engine = await serve.part('engine');
    process.kill(engine.pid, 'SIGKILL');

    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    const death = await serve.line((l) => l.part === 'engine' && l.pid === engine.pid && l.signal === 'SIGKILL');
    expect(death).toMatchObject({ level: 50, restarts: 1, restartInMs: expect.any(Number) });
    const replacement = await serve.part('engine', 1);
    expect(replacement.url).toBe(engine.url);
    expect(replacement.pid).not.toBe(engine.pid);
    let ready = await readiness();
    while (ready.status !== 200) ready = (await sleep(100), await readiness());
    expect(ready.body).toEqual({ status: 'ready', redis: true, backend: true });

    expect((await waitForJob(api, await submit())).status).toBe('succeeded');
  });

  it('stops every part on SIGTERM, the API first and the engine last, and exits 0', async () => {
    const pids = await Promise.all(['api', 'worker', 'engine'].map(async (name) => (await serve.part(name)).pid));
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(parentOf(pid)).toBeUndefined();
    const order = serve.lines.filter((l) => l.msg === 'shutting down').map((l) => l.process);
    expect(order).toEqual(['i2v', 'api', 'worker', 'engine']);
  });

  async function jobOf(id: string): Promise<{ status: string; stage: string }> {
    return (await (await fetch(`${api}/v1/jobs/${id}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as { status: string; stage: string };
  }
});

describe('`i2v serve` killed with SIGKILL', () => {
  it('takes its parts with it: none outlives the supervisor', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-serve-'));
    const serve = Serve.start(serveEnv(dir));
    try {
      await serve.line((l) => l.msg === 'i2v is up');
      const pids = await Promise.all(['api', 'worker', 'engine'].map(async (name) => (await serve.part(name)).pid));
      await serve.stop('SIGKILL');
      for (const pid of pids) await untilGone(pid);
    } finally {
      await serve.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
