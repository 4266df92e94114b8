/**
 * The five service benchmarks of `npm run bench`: how to run one (its own
 * process, in any checkout of the project) and the figures each is judged by.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const BENCHES = ['ingest', 'orchestration', 'queue-latency', 'upload', 'soak'] as const;
export type Bench = (typeof BENCHES)[number];

/** Runs `bench/<bench>.ts` of the checkout at `root`, its output shown as it comes; the JSON file it wrote. */
export function runBench(bench: Bench, root: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const script = path.join(root, 'bench', `${bench}.ts`);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    output += chunk.toString();
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      if (code !== 0) process.stdout.write(`\n${bench} exited with ${code}\n`);
      const written = /→ (\S+\.json)/.exec(output)?.[1];
      resolve(written && path.resolve(root, written));
    }),
  );
}

export type Figures = Record<string, any>;
export const headline: Record<Bench, (f: Figures) => { figure: string; target: string; met: boolean }[]> = {
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

/** A figure two runs can be set side by side on, and which way is better. */
export interface Measure {
  name: string;
  value: number;
  better: 'higher' | 'lower';
}

export const measures: Record<Bench, (f: Figures) => Measure[]> = {
  ingest: (f) => [
    { name: 'POST /v1/jobs jobs/s', value: f.post_jobs.jobs_per_s, better: 'higher' },
    { name: '× bare route', value: f.ratio_to_bare_route, better: 'higher' },
    { name: 'POST /v1/jobs p99 ms', value: f.post_jobs.p99_ms, better: 'lower' },
  ],
  orchestration: (f) => [
    { name: 'jobs/s', value: f.jobs_per_s, better: 'higher' },
    { name: 'worker CPU ms/job', value: f.worker_cpu_ms_per_job, better: 'lower' },
    { name: 'engine CPU ms/job', value: f.engine_cpu_ms_per_job, better: 'lower' },
  ],
  'queue-latency': (f) => [{ name: '202 → started_at p50 ms', value: f.accepted_to_started_ms.p50, better: 'lower' }],
  upload: (f) => [
    { name: 'MB/s (median)', value: f.mb_per_s_median, better: 'higher' },
    { name: 'API RSS growth MB (max)', value: f.rss_growth_mb_max, better: 'lower' },
  ],
  soak: (f) => [
    { name: 'worker RSS growth % (max)', value: Math.max(...f.worker_rss_growth_percent), better: 'lower' },
    { name: 'Redis B/job after', value: f.redis_after.bytes_per_job, better: 'lower' },
    { name: 'lost + duplicated', value: f.lost + f.duplicated, better: 'lower' },
  ],
};
