/**
 * Ingest: how fast `POST /v1/jobs` turns requests into queued jobs, against
 * two floors measured in the same run at the same concurrency:
 *   (a) a bare Fastify route that only does `queue.add` with the body (HTTP + enqueue),
 *   (b) `queue.add` called directly with BullMQ (no HTTP).
 * autocannon runs in this process, on the same machine as the servers.
 * `npm run bench:ingest`; RUNS, DURATION_S, CONNECTIONS, TARGETS (direct,bare,api),
 * PROFILE=1 (--cpu-prof of the API into bench/profiles/; read them with bench/profile-summary.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { createRedis } from '../src/shared/infra/redis.ts';
import { postLoad, type LoadFigures } from './lib/load.ts';
import { baseEnv, freePort, processStats, spawnI2v, spawnScript, waitForHttp, type BenchProcess } from './lib/processes.ts';
import { dropPrefix } from './lib/redis-keys.ts';
import { writeResults } from './lib/results.ts';
import { median, percentile, round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const RUNS = Number(process.env.RUNS ?? 3);
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const WARMUP_S = 2;
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const PROFILE = process.env.PROFILE === '1';
const TARGETS = new Set((process.env.TARGETS ?? 'direct,bare,api').split(','));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BODY = JSON.stringify({ images: ['https://shop.example/p/123.jpg'] });

interface Figures {
  okPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** server CPU per 2xx request (the HTTP targets only) */
  cpuUsPerJob?: number;
  notOk?: number;
  errors?: number;
}

const redis = createRedis(REDIS_URL);
const dir = await mkdtemp(path.join(tmpdir(), 'i2v-ingest-'));
const newPrefix = (name: string) => `bench-ingest-${name}-${randomBytes(3).toString('hex')}`;

/** (b): `queue.add` from `CONNECTIONS` concurrent loops in this process. */
async function enqueueDirectly(): Promise<Figures> {
  const prefix = newPrefix('direct');
  const connection = createRedis(REDIS_URL);
  const queue = new Queue('render', { connection, prefix });
  await queue.waitUntilReady();
  const data = JSON.parse(BODY) as unknown;
  const loop = async (seconds: number, latencies: number[]) => {
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < deadline) {
          const started = performance.now();
          await queue.add('render', data);
          latencies.push(performance.now() - started);
        }
      }),
    );
  };
  await loop(WARMUP_S, []);
  const latencies: number[] = [];
  const started = performance.now();
  await loop(DURATION_S, latencies);
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  connection.disconnect();
  await dropPrefix(redis, prefix);
  return { okPerS: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** A server in its own process under autocannon: a warm-up, then the measured run. */
async function overHttp(name: string, start: (port: number, prefix: string) => BenchProcess, route: string, headers: Record<string, string>): Promise<Figures> {
  const prefix = newPrefix(name);
  const port = await freePort();
  const spawned = performance.now();
  const server = start(port, prefix);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`);
    await postLoad({ url: `${url}${route}`, headers, body: BODY, connections: CONNECTIONS, durationS: WARMUP_S });
    if (PROFILE) process.stdout.write(`${name}: the measured load starts ${Math.round(performance.now() - spawned)} ms after the process started (profile-summary's skip-ms)\n`);
    const cpuBefore = processStats(server.pid).cpuMs;
    const load: LoadFigures = await postLoad({ url: `${url}${route}`, headers, body: BODY, connections: CONNECTIONS, durationS: DURATION_S });
    const cpuMs = processStats(server.pid).cpuMs - cpuBefore;
    if (load.ok === 0) throw new Error(`${name}: no 2xx answers (${JSON.stringify(load.statusCodes)}, ${load.errors} errors)`);
    return { okPerS: load.okPerS, p50Ms: load.p50Ms, p99Ms: load.p99Ms, cpuUsPerJob: (cpuMs * 1000) / load.ok, notOk: load.notOk, errors: load.errors };
  } finally {
    await server.stop();
    await dropPrefix(redis, prefix);
  }
}

const bareFloor = () =>
  overHttp('bare', (port, prefix) => spawnScript('./bare-enqueue-server.ts', [], { ...baseEnv(prefix, dir), PORT: String(port) }), '/enqueue', {
    'content-type': 'application/json',
  });

let profileRun = 0;
const api = async () => {
  const profileDir = path.resolve('bench/profiles');
  if (PROFILE) await mkdir(profileDir, { recursive: true });
  return overHttp(
    'api',
    (port, prefix) =>
      spawnI2v('api', baseEnv(prefix, path.join(dir, 'storage'), { PORT: String(port), RATE_LIMIT_PER_MINUTE: '1000000000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' }), {
        // one profile per thread: the main thread's is CPU.<date>.<pid>.0.<n>.cpuprofile
        nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir, `ingest-api-${Date.now()}-${profileRun++}`)] : [],
      }),
    '/v1/jobs',
    { authorization: 'Bearer dev-key', 'content-type': 'application/json', 'idempotency-key': 'ingest-[<id>]' },
  );
};

const NOT_MEASURED: Figures = { okPerS: Number.NaN, p50Ms: Number.NaN, p99Ms: Number.NaN };
const runs: { direct: Figures; bare: Figures; api: Figures }[] = [];
for (let run = 0; run < RUNS; run++) {
  const direct = TARGETS.has('direct') ? await enqueueDirectly() : NOT_MEASURED;
  const bare = TARGETS.has('bare') ? await bareFloor() : NOT_MEASURED;
  const full = TARGETS.has('api') ? await api() : NOT_MEASURED;
  runs.push({ direct, bare, api: full });
  process.stdout.write(
    `run ${run + 1}/${RUNS}: direct ${Math.round(direct.okPerS)}/s, bare route ${Math.round(bare.okPerS)}/s, POST /v1/jobs ${Math.round(full.okPerS)}/s (p99 ${full.p99Ms} ms)\n`,
  );
}

const summary = (pick: (r: (typeof runs)[number]) => Figures) => {
  const figures = runs.map(pick);
  return {
    jobs_per_s: Math.round(median(figures.map((f) => f.okPerS))),
    p50_ms: round(median(figures.map((f) => f.p50Ms))),
    p99_ms: round(median(figures.map((f) => f.p99Ms))),
    ...(figures[0]?.cpuUsPerJob !== undefined && { cpu_us_per_job: Math.round(median(figures.map((f) => f.cpuUsPerJob ?? 0))) }),
  };
};
const result = {
  connections: CONNECTIONS,
  duration_s: DURATION_S,
  runs: RUNS,
  body: BODY,
  direct_queue_add: summary((r) => r.direct),
  bare_route: summary((r) => r.bare),
  post_jobs: { ...summary((r) => r.api), non_2xx: runs.reduce((n, r) => n + (r.api.notOk ?? 0), 0), errors: runs.reduce((n, r) => n + (r.api.errors ?? 0), 0) },
  // ratios within each run, then their median
  ratio_to_bare_route: round(median(runs.map((r) => r.api.okPerS / r.bare.okPerS)), 2),
  ratio_to_direct: round(median(runs.map((r) => r.api.okPerS / r.direct.okPerS)), 2),
  targets: { ratio_to_bare_route: 0.6, p99_ms: 50 },
  per_run: runs,
};
printTable(`Ingest: ${CONNECTIONS} connections, ${DURATION_S} s per measure, median of ${RUNS} runs`, [
  { target: '(b) queue.add, no HTTP', 'jobs/s': result.direct_queue_add.jobs_per_s, 'p50 ms': result.direct_queue_add.p50_ms, 'p99 ms': result.direct_queue_add.p99_ms },
  { target: '(a) bare route + queue.add', 'jobs/s': result.bare_route.jobs_per_s, 'p50 ms': result.bare_route.p50_ms, 'p99 ms': result.bare_route.p99_ms, 'server CPU µs/job': result.bare_route.cpu_us_per_job },
  { target: 'POST /v1/jobs', 'jobs/s': result.post_jobs.jobs_per_s, 'p50 ms': result.post_jobs.p50_ms, 'p99 ms': result.post_jobs.p99_ms, 'server CPU µs/job': result.post_jobs.cpu_us_per_job },
]);
process.stdout.write(
  `POST /v1/jobs / (a) = ${result.ratio_to_bare_route} (target ≥ 0.6), / (b) = ${result.ratio_to_direct}; p99 ${result.post_jobs.p99_ms} ms (target ≤ 50)\n`,
);
process.stdout.write(`→ ${await writeResults('ingest', result)}\n`);
redis.disconnect();
await rm(dir, { recursive: true, force: true });
