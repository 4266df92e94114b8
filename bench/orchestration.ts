/**
 * Orchestration overhead: 1,000 jobs through the whole lifecycle (connect,
 * upload, instruct, render, poll, store, notify) against the embedded engine
 * in benchmark mode (renders skip ffmpeg and copy a pre-made clip), with one
 * worker process. Completed jobs/s and the CPU each process spent per job:
 * the worker's own (target ≤ 10 ms), the ffprobe/ffmpeg it runs to check
 * the video and cut its poster, the engine's and the API's.
 * `npm run bench:orchestration`; JOBS, RUNS, WORKER_CONCURRENCY, PROFILE=1 (--cpu-prof of the worker into bench/profiles/).
 */
import path from 'node:path';
import { processStats, type BenchProcess } from './lib/processes.ts';
import { writeResults } from './lib/results.ts';
import { BenchStack } from './lib/stack.ts';
import { median, round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const JOBS = Number(process.env.JOBS ?? 1000);
const RUNS = Number(process.env.RUNS ?? 3);
const CONCURRENCY = process.env.WORKER_CONCURRENCY ?? '4';
const PROFILE = process.env.PROFILE === '1';

interface Run {
  seconds: number;
  jobsPerS: number;
  succeeded: number;
  workerCpuMsPerJob: number;
  workerChildrenCpuMsPerJob: number;
  engineCpuMsPerJob: number;
  /** of which the ffprobe it runs on each upload */
  engineChildrenCpuMsPerJob: number;
  apiCpuMsPerJob: number;
  /** cores each process kept busy on average over the run */
  workerCores: number;
  engineCores: number;
}

const cpuOf = (process: BenchProcess) => processStats(process.pid);

async function run(index: number): Promise<Run> {
  const stack = await BenchStack.start({
    workers: 1,
    workerEnv: { WORKER_CONCURRENCY: CONCURRENCY },
    workerNodeArgs: () => (PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(`bench/profiles/orchestration-worker-${Date.now()}-${index}`)] : []),
  });
  try {
    if (index === 0) {
      const warning = /"msg":"([^"]*BENCHMARK MODE[^"]*)"/.exec(await stack.engineLog())?.[1];
      process.stdout.write(`engine: ${warning ?? 'NO BENCHMARK-MODE WARNING IN ITS LOG'}\n`);
    }
    await stack.photo();
    const worker = stack.workers[0] as BenchProcess;
    const before = { worker: cpuOf(worker), engine: cpuOf(stack.engine), api: cpuOf(stack.api) };
    const started = performance.now();
    const ids = await stack.submitMany(JOBS);
    await stack.waitForEnded(JOBS, 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    const after = { worker: cpuOf(worker), engine: cpuOf(stack.engine), api: cpuOf(stack.api) };
    const records = await stack.recordsOf(ids);
    const succeeded = records.filter((record) => record.status === 'succeeded').length;
    if (succeeded < JOBS) {
      const failures = records.filter((record) => record.status !== 'succeeded').map((record) => record.error?.code ?? record.status);
      process.stdout.write(`  ${JOBS - succeeded} jobs did not succeed: ${[...new Set(failures)].join(', ')}\n`);
    }
    const engineMs = after.engine.cpuMs + after.engine.childrenCpuMs - before.engine.cpuMs - before.engine.childrenCpuMs;
    const workerMs = after.worker.cpuMs - before.worker.cpuMs;
    return {
      seconds,
      jobsPerS: JOBS / seconds,
      succeeded,
      workerCpuMsPerJob: workerMs / JOBS,
      workerChildrenCpuMsPerJob: (after.worker.childrenCpuMs - before.worker.childrenCpuMs) / JOBS,
      engineCpuMsPerJob: engineMs / JOBS,
      engineChildrenCpuMsPerJob: (after.engine.childrenCpuMs - before.engine.childrenCpuMs) / JOBS,
      apiCpuMsPerJob: (after.api.cpuMs - before.api.cpuMs) / JOBS,
      workerCores: workerMs / 1000 / seconds,
      engineCores: engineMs / 1000 / seconds,
    };
  } finally {
    await stack.stop();
  }
}

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const result = await run(i);
  runs.push(result);
  process.stdout.write(
    `run ${i + 1}/${RUNS}: ${JOBS} jobs in ${round(result.seconds)} s (${round(result.jobsPerS)}/s), worker ${round(result.workerCpuMsPerJob, 2)} ms CPU/job (+ ${round(result.workerChildrenCpuMsPerJob, 1)} ms in ffprobe/ffmpeg), engine ${round(result.engineCpuMsPerJob, 1)} ms/job\n`,
  );
}

const med = (pick: (r: Run) => number, digits = 1) => round(median(runs.map(pick)), digits);
const result = {
  jobs: JOBS,
  runs: RUNS,
  worker_concurrency: Number(CONCURRENCY),
  jobs_per_s: med((r) => r.jobsPerS),
  succeeded_min: Math.min(...runs.map((r) => r.succeeded)),
  worker_cpu_ms_per_job: med((r) => r.workerCpuMsPerJob, 2),
  worker_children_cpu_ms_per_job: med((r) => r.workerChildrenCpuMsPerJob),
  engine_cpu_ms_per_job: med((r) => r.engineCpuMsPerJob),
  engine_children_cpu_ms_per_job: med((r) => r.engineChildrenCpuMsPerJob ?? 0),
  api_cpu_ms_per_job: med((r) => r.apiCpuMsPerJob, 2),
  worker_cores: med((r) => r.workerCores, 2),
  engine_cores: med((r) => r.engineCores, 2),
  targets: { worker_cpu_ms_per_job: 10 },
  per_run: runs,
};
printTable(`Orchestration: ${JOBS} jobs, 1 worker (concurrency ${CONCURRENCY}), engine in benchmark mode, median of ${RUNS} runs`, [
  { measure: 'completed jobs/s', value: result.jobs_per_s },
  { measure: 'worker CPU ms/job (its own process)', value: result.worker_cpu_ms_per_job, target: '≤ 10' },
  { measure: 'worker children CPU ms/job (process launcher + its ffprobe and ffmpeg)', value: result.worker_children_cpu_ms_per_job },
  { measure: 'engine CPU ms/job (with its launcher and ffprobe)', value: `${result.engine_cpu_ms_per_job} (children ${result.engine_children_cpu_ms_per_job})` },
  { measure: 'API CPU ms/job (POST /v1/jobs)', value: result.api_cpu_ms_per_job },
  { measure: 'cores busy: worker / engine', value: `${result.worker_cores} / ${result.engine_cores}` },
]);
process.stdout.write(`→ ${await writeResults('orchestration', result)}\n`);
