/**
 * Soak: 10,000 jobs through 2 worker processes against the engine in
 * benchmark mode. Each worker's RSS when 1,000 jobs have ended and when all
 * have (target: growth ≤ 10%); what the run leaves in Redis once BullMQ's
 * retention (removeOnComplete) has done its part; jobs lost (not succeeded)
 * and duplicated (a second render or instruction for one job): both must be 0.
 * `npm run bench:soak`; JOBS, WORKERS, WORKER_CONCURRENCY.
 */
import { processStats } from './lib/processes.ts';
import { prefixMemory } from './lib/redis-keys.ts';
import { writeResults } from './lib/results.ts';
import { BenchStack } from './lib/stack.ts';
import { round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const JOBS = Number(process.env.JOBS ?? 10_000);
const WORKERS = Number(process.env.WORKERS ?? 2);
const CONCURRENCY = process.env.WORKER_CONCURRENCY ?? '4';
const FIRST_MARK = Math.min(1000, Math.floor(JOBS / 10));

const stack = await BenchStack.start({ workers: WORKERS, workerEnv: { WORKER_CONCURRENCY: CONCURRENCY } });
try {
  await stack.photo();
  const rssMb = () => stack.workers.map((worker) => round(processStats(worker.pid).rssKb / 1024));
  const started = performance.now();
  const ids = await stack.submitMany(JOBS);
  process.stdout.write(`${JOBS} jobs submitted in ${round((performance.now() - started) / 1000)} s\n`);
  let atFirstMark: number[] | undefined;
  let lastReport = 0;
  await stack.waitForEnded(JOBS, 3 * 3600_000, (ended) => {
    if (!atFirstMark && ended >= FIRST_MARK) atFirstMark = rssMb();
    if (ended - lastReport >= 1000) {
      lastReport = ended - (ended % 1000);
      process.stdout.write(`  ${ended} ended after ${round((performance.now() - started) / 1000)} s; worker RSS ${rssMb().join(', ')} MB\n`);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const atEnd = rssMb();
  const first = atFirstMark ?? atEnd;
  const growth = atEnd.map((mb, i) => round((100 * (mb - (first[i] ?? mb))) / (first[i] ?? mb)));

  const records = await stack.recordsOf(ids);
  const succeeded = records.filter((record) => record.status === 'succeeded').length;
  const endings = new Map<string, number>();
  for (const record of records) if (record.status !== 'succeeded') endings.set(record.error?.code ?? record.status, (endings.get(record.error?.code ?? record.status) ?? 0) + 1);
  if (endings.size > 0) process.stdout.write(`not succeeded: ${[...endings].map(([why, n]) => `${n} ${why}`).join(', ')}\n`);
  const retried = records.filter((record) => record.attempts > 1).length;
  const engine = await stack.engineStats();
  const memory = await prefixMemory(stack.redis, stack.prefix);
  const recordKeys = await prefixMemory(stack.redis, `${stack.prefix}:job`);
  const result = {
    jobs: JOBS,
    workers: WORKERS,
    worker_concurrency: Number(CONCURRENCY),
    seconds: round(seconds),
    jobs_per_s: round(JOBS / seconds),
    worker_rss_mb_at: { [FIRST_MARK]: first, [JOBS]: atEnd },
    worker_rss_growth_percent: growth,
    lost: JOBS - succeeded,
    duplicated: Math.max(0, engine.renders - JOBS) + Math.max(0, engine.instructions - JOBS),
    retried_jobs: retried,
    engine_renders: engine.renders,
    engine_instructions: engine.instructions,
    redis_after: { keys: memory.keys, mb: round(memory.bytes / 1048576), bytes_per_job: Math.round(memory.bytes / JOBS), job_record_mb: round(recordKeys.bytes / 1048576) },
    targets: { worker_rss_growth_percent: 10, lost: 0, duplicated: 0 },
  };
  printTable(`Soak: ${JOBS} jobs through ${WORKERS} workers (concurrency ${CONCURRENCY} each), engine in benchmark mode`, [
    { measure: 'wall time, jobs/s', value: `${result.seconds} s, ${result.jobs_per_s}/s` },
    { measure: `worker RSS at ${FIRST_MARK} jobs (MB)`, value: first.join(', ') },
    { measure: `worker RSS at ${JOBS} jobs (MB)`, value: atEnd.join(', ') },
    { measure: 'RSS growth (%)', value: growth.join(', '), target: '≤ 10' },
    { measure: 'lost (not succeeded)', value: result.lost, target: '0' },
    { measure: 'duplicated (extra renders + instructions)', value: result.duplicated, target: '0' },
    { measure: 'jobs retried', value: retried },
    { measure: 'Redis after the run: keys, MB (job records MB), bytes/job', value: `${memory.keys}, ${result.redis_after.mb} (${result.redis_after.job_record_mb}), ${result.redis_after.bytes_per_job}` },
  ]);
  process.stdout.write(`→ ${await writeResults('soak', result)}\n`);
} finally {
  await stack.stop();
}
