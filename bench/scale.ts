/**
 * Render capacity across engine processes, and fairness between tenants.
 *
 * Throughput: JOBS jobs of 2 s 720p clips, rendered for real by ffmpeg,
 * through the API and WORKERS worker processes (WORKER_CONCURRENCY slots
 * each, the same for every run), with 1, 2 and 3 engine processes forming one
 * backend (one Redis, one folder, all listed in BACKEND_URL), each rendering
 * ENGINE_RENDER_CONCURRENCY at a time. Prints jobs/min and the ratio to one
 * engine, and how many renders each engine did. On a machine with fewer cores
 * than engines this shows what coordination costs, not a speed-up.
 *
 * Fairness: tenant A queues A_JOBS jobs, then tenant B submits one. Prints how
 * long B waited from its 202 to its start and to its video, against the
 * render slot time (median start→finish of A's jobs), and how many of A's
 * jobs started while B waited.
 *
 * `npm run bench:scale`; JOBS, ENGINES (e.g. "1,2,3"), A_JOBS.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../src/shared/jobs/job-record.ts';
import { writeResults } from './lib/results.ts';
import { BenchStack, type StackOptions } from './lib/stack.ts';
import { median, round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const JOBS = Number(process.env.JOBS ?? 24);
const ENGINE_COUNTS = (process.env.ENGINES ?? '1,2,3').split(',').map(Number);
const A_JOBS = Number(process.env.A_JOBS ?? 500);
const CLIP = { duration_s: 2, resolution: '720p', aspect_ratio: '16:9' } as const;
const TENANTS = { a: { tenant: 'shop-a', key: 'bench-key-shop-a' }, b: { tenant: 'shop-b', key: 'bench-key-shop-b' } } as const;
const API_KEYS = Object.values(TENANTS)
  .map(({ tenant, key }) => `${tenant}=${key}`)
  .join(',');

const stackOptions = (engines: number, workers: number, workerConcurrency: number, renderConcurrency: number): StackOptions => ({
  engines,
  workers,
  renders: 'ffmpeg',
  env: { API_KEYS, ENGINE_RENDER_CONCURRENCY: String(renderConcurrency), SHUTDOWN_GRACE_S: '2' },
  workerEnv: { WORKER_CONCURRENCY: String(workerConcurrency) },
});

const ms = (record: JobRecord | undefined, field: 'createdAt' | 'startedAt' | 'finishedAt') => Date.parse(record?.[field] ?? '');

async function waitForRecord(stack: BenchStack, id: string, done: (record: JobRecord) => boolean, timeoutMs: number): Promise<JobRecord> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) {
    const record = await stack.records.get(id);
    if (record && done(record)) return record;
  }
  throw new Error(`job ${id} did not get there within ${timeoutMs} ms`);
}

/** Renders each engine finished, from its log. */
async function rendersPerEngine(stack: BenchStack): Promise<number[]> {
  return Promise.all(
    stack.engines.map(async (_engine, i) => {
      const log = await readFile(path.join(stack.dir, `engine-${i}.log`), 'utf8').catch(() => '');
      return log.split('\n').filter((line) => line.includes('"msg":"render completed"')).length;
    }),
  );
}

interface ThroughputRun {
  engines: number;
  seconds: number;
  jobsPerMin: number;
  succeeded: number;
  rendersPerEngine: number[];
}

async function throughput(engines: number): Promise<ThroughputRun> {
  const stack = await BenchStack.start(stackOptions(engines, 2, 3, 1));
  try {
    const submit = { apiKey: TENANTS.a.key, options: CLIP };
    const warmup = (await stack.submit(submit)).id;
    await waitForRecord(stack, warmup, (record) => record.status === 'succeeded', 120_000);
    const started = performance.now();
    const ids = await stack.submitMany(JOBS, 8, submit);
    await stack.waitForEnded(JOBS + 1, 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    const succeeded = (await stack.recordsOf(ids)).filter((record) => record.status === 'succeeded').length;
    return { engines, seconds, jobsPerMin: (succeeded / seconds) * 60, succeeded, rendersPerEngine: await rendersPerEngine(stack) };
  } finally {
    await stack.stop();
  }
}

interface FairnessRun {
  aQueued: number;
  /** B's 202 → B's started_at */
  bStartWaitMs: number;
  /** B's 202 → B succeeded */
  bVideoMs: number;
  /** median started_at → finished_at of A's finished jobs: one render slot's time */
  slotMs: number;
  aStartedWhileBWaited: number;
  slots: number;
}

async function fairness(): Promise<FairnessRun> {
  const [workerConcurrency, renderConcurrency] = [2, 2];
  const stack = await BenchStack.start(stackOptions(1, 1, workerConcurrency, renderConcurrency));
  try {
    await stack.photo(TENANTS.b.key);
    const aIds = await stack.submitMany(A_JOBS, 20, { apiKey: TENANTS.a.key, options: CLIP });
    // let A's first jobs take every slot, as a queue that was busy before B came would be
    await sleep(3_000);
    const b = await stack.submit({ apiKey: TENANTS.b.key, options: CLIP });
    const bStarted = await waitForRecord(stack, b.id, (record) => Boolean(record.startedAt), 10 * 60_000);
    const bDone = await waitForRecord(stack, b.id, (record) => record.status === 'succeeded', 10 * 60_000);
    const aRecords = await stack.recordsOf(aIds);
    const aStartedWhileBWaited = aRecords.filter((record) => ms(record, 'startedAt') > b.acceptedAt && ms(record, 'startedAt') < ms(bStarted, 'startedAt')).length;
    const slotTimes = aRecords.filter((record) => record.status === 'succeeded').map((record) => ms(record, 'finishedAt') - ms(record, 'startedAt'));
    return {
      aQueued: A_JOBS,
      bStartWaitMs: ms(bStarted, 'startedAt') - b.acceptedAt,
      bVideoMs: ms(bDone, 'finishedAt') - b.acceptedAt,
      slotMs: median(slotTimes),
      aStartedWhileBWaited,
      slots: workerConcurrency,
    };
  } finally {
    await stack.stop();
  }
}

const runs: ThroughputRun[] = [];
for (const engines of ENGINE_COUNTS) {
  const run = await throughput(engines);
  runs.push(run);
  process.stdout.write(`${engines} engine(s): ${run.succeeded}/${JOBS} jobs in ${round(run.seconds)} s = ${round(run.jobsPerMin)} jobs/min; renders per engine ${run.rendersPerEngine.join(' / ')}\n`);
}
const fair = await fairness();
process.stdout.write(`fairness: B started ${fair.bStartWaitMs} ms after its 202 (slot ${fair.slotMs} ms), its video ${fair.bVideoMs} ms after\n`);

const baseline = runs.find((run) => run.engines === 1)?.jobsPerMin ?? Number.NaN;
const result = {
  jobs: JOBS,
  clip: CLIP,
  workers: 2,
  worker_concurrency: 3,
  engine_render_concurrency: 1,
  throughput: runs.map((run) => ({
    engines: run.engines,
    jobs_per_min: round(run.jobsPerMin),
    ratio_to_one_engine: round(run.jobsPerMin / baseline, 2),
    succeeded: run.succeeded,
    renders_per_engine: run.rendersPerEngine,
  })),
  fairness: {
    a_queued: fair.aQueued,
    b_start_wait_ms: fair.bStartWaitMs,
    b_video_ms: fair.bVideoMs,
    slot_ms: fair.slotMs,
    b_start_wait_in_slots: round(fair.bStartWaitMs / fair.slotMs, 2),
    a_started_while_b_waited: fair.aStartedWhileBWaited,
    worker_slots: fair.slots,
  },
};
printTable(`Render capacity: ${JOBS} jobs of 2 s 720p 16:9 clips (real renders), 2 workers × 3 slots, 1 render at a time per engine`, [
  ...result.throughput.map((run) => ({
    measure: `${run.engines} engine process${run.engines === 1 ? '' : 'es'}`,
    value: `${run.jobs_per_min} jobs/min (${run.ratio_to_one_engine} × 1 engine), renders per engine ${run.renders_per_engine.join(' / ')}`,
  })),
  {
    measure: `fairness: B's one job behind A's ${fair.aQueued} (${fair.slots} slots)`,
    value: `started ${round(fair.bStartWaitMs / 1000, 2)} s after its 202 = ${result.fairness.b_start_wait_in_slots} render slots (${round(fair.slotMs / 1000, 2)} s each); video after ${round(fair.bVideoMs / 1000, 2)} s; ${fair.aStartedWhileBWaited} of A's jobs started meanwhile`,
  },
]);
process.stdout.write(`→ ${await writeResults('scale', result)}\n`);
