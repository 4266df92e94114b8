/**
 * `npm run bench`: the five service benchmarks one after another, each in
 * its own process, then one table of their headline figures beside their
 * targets. Figures are printed, never asserted: the exit code says only
 * whether every benchmark ran. Without a Redis at REDIS_URL a private
 * redis-server is started for the run. The renderer's own benchmark is
 * `npm run bench:render`.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { redisAnswers, startPrivateRedis, type PrivateRedis } from '../src/cli/private-redis.ts';
import { printTable } from './lib/table.ts';

const BENCHES = ['ingest', 'orchestration', 'queue-latency', 'upload', 'soak'] as const;
type Bench = (typeof BENCHES)[number];

let privateRedis: PrivateRedis | undefined;
if (!(await redisAnswers(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'))) {
  privateRedis = await startPrivateRedis();
  process.env.REDIS_URL = privateRedis.url;
  process.stdout.write(`no Redis at REDIS_URL: the benchmarks use a private redis-server at ${privateRedis.url}\n`);
}

/** Runs one benchmark, its output shown as it comes; the JSON file it wrote. */
function run(bench: Bench): Promise<string | undefined> {
  const script = fileURLToPath(new URL(`${bench}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    output += chunk.toString();
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      if (code !== 0) process.stdout.write(`\n${bench} exited with ${code}\n`);
      resolve(/→ (\S+\.json)/.exec(output)?.[1]);
    }),
  );
}

type Figures = Record<string, any>;
const headline: Record<Bench, (f: Figures) => { figure: string; target: string; met: boolean }[]> = {
  ingest: (f) => [
    {
      figure: `POST /v1/jobs ${f.post_jobs.jobs_per_s} jobs/s = ${f.ratio_to_bare_route} × bare route (${f.bare_route.jobs_per_s}/s), ${f.ratio_to_direct} × queue.add (${f.direct_queue_add.jobs_per_s}/s)`,
      target: '≥ 0.6 × bare route',
      met: f.ratio_to_bare_route >= 0.6,
    },
    { figure: `POST /v1/jobs p50 ${f.post_jobs.p50_ms} ms, p99 ${f.post_jobs.p99_ms} ms`, target: 'p99 ≤ 50 ms', met: f.post_jobs.p99_ms <= 50 },
  ],
  orchestration: (f) => [
    {
      figure: `${f.jobs_per_s} jobs/s; worker ${f.worker_cpu_ms_per_job} ms CPU/job (+ ${f.worker_children_cpu_ms_per_job} ms ffprobe/ffmpeg); engine ${f.engine_cpu_ms_per_job} ms/job`,
      target: '≤ 10 ms worker CPU/job',
      met: f.worker_cpu_ms_per_job <= 10,
    },
  ],
  'queue-latency': (f) => [
    { figure: `202 → started_at p50 ${f.accepted_to_started_ms.p50} ms (created_at → started_at p50 ${f.created_to_started_ms.p50} ms)`, target: 'p50 ≤ 10 ms', met: f.accepted_to_started_ms.p50 <= 10 },
  ],
  upload: (f) => [{ figure: `${f.mb_per_s_median} MB/s, API RSS +${f.rss_growth_mb_median} MB (max ${f.rss_growth_mb_max})`, target: 'RSS growth ≤ 64 MB', met: f.rss_growth_mb_max <= 64 }],
  soak: (f) => [
    { figure: `worker RSS growth ${f.worker_rss_growth_percent.join(', ')} % from ${Object.keys(f.worker_rss_mb_at)[0]} to ${f.jobs} jobs`, target: '≤ 10 %', met: Math.max(...f.worker_rss_growth_percent) <= 10 },
    { figure: `${f.lost} lost, ${f.duplicated} duplicated; Redis after: ${f.redis_after.mb} MB (${f.redis_after.bytes_per_job} B/job)`, target: '0 lost, 0 duplicated', met: f.lost === 0 && f.duplicated === 0 },
  ],
};

const rows: Record<string, string>[] = [];
let failed = 0;
for (const bench of BENCHES) {
  process.stdout.write(`\n=== ${bench} ===\n`);
  const file = await run(bench);
  if (!file) {
    failed++;
    rows.push({ bench, figure: 'did not finish', target: '', '': '' });
    continue;
  }
  const figures = JSON.parse(await readFile(file, 'utf8')) as Figures;
  for (const line of headline[bench](figures)) rows.push({ bench, figure: line.figure, target: line.target, '': line.met ? 'met' : 'MISSED' });
}
printTable('npm run bench: headline figures (details and the JSON files above)', rows);
await privateRedis?.stop();
process.exitCode = failed > 0 ? 1 : 0;
