import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { JobRecords, type JobRecord } from '../../src/shared/jobs/job-record.ts';
import { DEV_TENANT } from '../../src/shared/infra/config.ts';
import { RENDER_QUEUE } from '../../src/shared/infra/queues.ts';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import { baseEnv, freePort, spawnI2v, waitForHttp, type BenchProcess } from './processes.ts';
import { dropPrefix } from './redis-keys.ts';

export interface StackOptions {
  workers: number;
  /** extra environment of every process (API, workers, engine) */
  env?: Record<string, string>;
  /** extra environment of the workers (WORKER_CONCURRENCY, …) */
  workerEnv?: Record<string, string>;
  /** node flags of the workers, e.g. --cpu-prof */
  workerNodeArgs?: (index: number) => string[];
  /** engine processes sharing one Redis prefix and one folder, all listed in BACKEND_URL (default 1) */
  engines?: number;
  /** `benchmark`: renders skip ffmpeg and copy a pre-made clip (the default); `ffmpeg`: real renders */
  renders?: 'benchmark' | 'ffmpeg';
}

/** What a job of the stack renders unless told otherwise: a 1 s square 720p clip of the stack's photo. */
export const SMALL_CLIP = { duration_s: 1, resolution: '720p', aspect_ratio: '1:1' } as const;

export interface SubmitOptions {
  /** the tenant's key (API_KEYS in `env`); default the development key */
  apiKey?: string;
  options?: Record<string, unknown>;
  priority?: 'high' | 'normal' | 'low';
}

/**
 * The whole service as separate processes on this machine: the embedded
 * engine (in benchmark mode unless told otherwise: renders skip ffmpeg; one
 * process or several forming one backend), the API, and `workers` worker
 * processes, on one Redis prefix of their own. Logs go to files in the
 * stack's folder, at the default level.
 */
export class BenchStack {
  readonly workers: BenchProcess[] = [];
  private readonly queue: Queue;
  readonly records: JobRecords;
  /** `upload:<id>` of the stack's photo, per API key */
  private readonly photoUploads = new Map<string, Promise<string>>();
  /** ffmpeg making the photo, once */
  private photoFile?: Promise<unknown>;

  private constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly redis: Redis,
    readonly engines: readonly BenchProcess[],
    readonly engineUrls: readonly string[],
    readonly api: BenchProcess,
    readonly apiUrl: string,
    private readonly env: Record<string, string>,
  ) {
    this.queue = new Queue(RENDER_QUEUE, { connection: redis, prefix });
    this.records = new JobRecords(redis, prefix);
  }

  /** the first engine process */
  get engine(): BenchProcess {
    return this.engines[0] as BenchProcess;
  }

  get engineUrl(): string {
    return this.engineUrls[0] as string;
  }

  static async start(options: StackOptions): Promise<BenchStack> {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-bench-'));
    const prefix = `bench-${randomBytes(4).toString('hex')}`;
    const enginePorts = await Promise.all(Array.from({ length: options.engines ?? 1 }, () => freePort()));
    const apiPort = await freePort();
    const engineUrls = enginePorts.map((port) => `http://127.0.0.1:${port}`);
    const env = baseEnv(prefix, path.join(dir, 'storage'), {
      BACKEND_URL: engineUrls.join(','),
      BACKEND_POLL_INTERVAL_MS: '50',
      RATE_LIMIT_PER_MINUTE: '1000000000',
      ...options.env,
    });
    const benchmarkMode = String((options.renders ?? 'benchmark') === 'benchmark');
    const engines = enginePorts.map((port, i) =>
      spawnI2v(
        'engine',
        { ...env, ENGINE_PORT: String(port), ENGINE_DIR: path.join(dir, 'engine'), ENGINE_BENCHMARK: benchmarkMode, ENGINE_FAULTS: 'true' },
        { logFile: path.join(dir, `engine-${i}.log`) },
      ),
    );
    const api = spawnI2v('api', { ...env, PORT: String(apiPort) }, { logFile: path.join(dir, 'api.log') });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await Promise.all([...engineUrls.map((url) => waitForHttp(`${url}/_engine/stats`)), waitForHttp(`${apiUrl}/healthz`)]);
    const stack = new BenchStack(dir, prefix, createRedis(env.REDIS_URL as string), engines, engineUrls, api, apiUrl, env);
    for (let i = 0; i < options.workers; i++) await stack.startWorker(options.workerEnv, options.workerNodeArgs?.(i) ?? []);
    return stack;
  }

  /** A worker process, once it has said it is ready. */
  async startWorker(extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BenchProcess> {
    const logFile = path.join(this.dir, `worker-${this.workers.length}.log`);
    const worker = spawnI2v('worker', { ...this.env, ...extraEnv }, { logFile, nodeArgs });
    this.workers.push(worker);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if ((await readFile(logFile, 'utf8').catch(() => '')).includes('"worker ready"')) return worker;
      if (worker.child.exitCode !== null) break;
    }
    throw new Error(`worker did not start; see ${logFile}`);
  }

  /** What the first engine logged (its benchmark-mode warning). */
  engineLog(): Promise<string> {
    return readFile(path.join(this.dir, 'engine-0.log'), 'utf8');
  }

  /** One small photo, uploaded once per API key; jobs refer to it as `upload:<id>`. */
  photo(apiKey: string = DEV_TENANT.key): Promise<string> {
    let upload = this.photoUploads.get(apiKey);
    if (!upload) {
      upload = this.uploadPhoto(apiKey);
      this.photoUploads.set(apiKey, upload);
    }
    return upload;
  }

  private async uploadPhoto(apiKey: string): Promise<string> {
    const file = path.join(this.dir, 'photo.jpg');
    this.photoFile ??= runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=1', '-frames:v', '1', file]);
    await this.photoFile;
    const form = new FormData();
    form.append('file', new Blob([await readFile(file)], { type: 'image/jpeg' }), 'photo.jpg');
    const response = await fetch(`${this.apiUrl}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
    if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
    return `upload:${((await response.json()) as { data: { id: string }[] }).data[0]?.id}`;
  }

  /** POST /v1/jobs for one job of the photo; returns the 202's body and when it arrived. */
  async submit(submit: SubmitOptions = {}): Promise<{ id: string; createdAt: string; acceptedAt: number }> {
    const apiKey: string = submit.apiKey ?? DEV_TENANT.key;
    const response = await fetch(`${this.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ images: [await this.photo(apiKey)], options: submit.options ?? SMALL_CLIP, ...(submit.priority && { priority: submit.priority }) }),
    });
    const acceptedAt = Date.now();
    if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { id: string; created_at: string };
    return { id: body.id, createdAt: body.created_at, acceptedAt };
  }

  /** `count` jobs, `inFlight` requests at a time; their ids in order. */
  async submitMany(count: number, inFlight = 20, submit: SubmitOptions = {}): Promise<string[]> {
    const ids: string[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) ids[i] = (await this.submit(submit)).id;
      }),
    );
    return ids;
  }

  /** Render jobs completed and failed so far, as BullMQ counts them. */
  async ended(): Promise<{ completed: number; failed: number }> {
    const counts = await this.queue.getJobCounts('completed', 'failed');
    return { completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
  }

  /** Waits until `total` render jobs have ended, calling `onProgress` with the count every poll. */
  async waitForEnded(total: number, timeoutMs: number, onProgress?: (ended: number) => void | Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { completed, failed } = await this.ended();
      await onProgress?.(completed + failed);
      if (completed + failed >= total) return;
      if (Date.now() > deadline) throw new Error(`only ${completed + failed} of ${total} jobs ended in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The records of `ids`, 500 at a time. */
  async recordsOf(ids: readonly string[]): Promise<JobRecord[]> {
    const found: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) found.push(...(await this.records.getMany(ids.slice(i, i + 500))));
    return found;
  }

  /** Renders the engine started, and instructions it took, over all sessions. */
  async engineStats(): Promise<{ renders: number; instructions: number }> {
    const stats = (await (await fetch(`${this.engineUrl}/_engine/stats`)).json()) as { data: { sessions: { instructions: number; renders: number }[] } };
    return {
      renders: stats.data.sessions.reduce((n, s) => n + s.renders, 0),
      instructions: stats.data.sessions.reduce((n, s) => n + s.instructions, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await Promise.all([this.api.stop(), ...this.engines.map((engine) => engine.stop())]);
    await this.queue.close();
    await dropPrefix(this.redis, this.prefix);
    this.redis.disconnect();
    await rm(this.dir, { recursive: true, force: true });
  }
}
