/**
 * Queue latency: how long a job waits for an idle worker. Jobs are sent one
 * at a time (each after the last has ended, so the worker is idle), and for
 * each the time from the client receiving its `202` to the job's
 * `started_at` is taken (negative when the worker started it before the
 * client had read the reply), and from its `created_at` (set before it was
 * enqueued) to `started_at`. Target: p50 ≤ 10 ms.
 * `npm run bench:queue-latency`; SAMPLES (per run), RUNS.
 */
import { writeResults } from './lib/results.ts';
import { BenchStack } from './lib/stack.ts';
import { median, percentile, round } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const SAMPLES = Number(process.env.SAMPLES ?? 100);
const RUNS = Number(process.env.RUNS ?? 3);
const WARMUP = 5;

interface Sample {
  fromAcceptedMs: number;
  fromCreatedMs: number;
}

async function run(): Promise<Sample[]> {
  const stack = await BenchStack.start({ workers: 1 });
  try {
    await stack.photo();
    const samples: Sample[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const { id, createdAt, acceptedAt } = await stack.submit();
      for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 5))) {
        const record = await stack.records.get(id);
        if (record && record.status !== 'queued' && record.status !== 'running') {
          if (record.status !== 'succeeded' || !record.startedAt) throw new Error(`job ${id} ended ${record.status}: ${record.error?.message ?? ''}`);
          const started = Date.parse(record.startedAt);
          if (i >= WARMUP) samples.push({ fromAcceptedMs: started - acceptedAt, fromCreatedMs: started - Date.parse(createdAt) });
          break;
        }
        if (Date.now() > deadline) throw new Error(`job ${id} did not end within 60 s`);
      }
    }
    return samples;
  } finally {
    await stack.stop();
  }
}

const runs: Sample[][] = [];
for (let i = 0; i < RUNS; i++) {
  const samples = await run();
  runs.push(samples);
  process.stdout.write(
    `run ${i + 1}/${RUNS}: 202 → started_at p50 ${percentile(samples.map((s) => s.fromAcceptedMs), 50)} ms; created_at → started_at p50 ${percentile(samples.map((s) => s.fromCreatedMs), 50)} ms\n`,
  );
}

const figure = (pick: (s: Sample) => number, p: number) => round(median(runs.map((samples) => percentile(samples.map(pick), p))));
const result = {
  samples_per_run: SAMPLES,
  runs: RUNS,
  accepted_to_started_ms: { p50: figure((s) => s.fromAcceptedMs, 50), p90: figure((s) => s.fromAcceptedMs, 90), p99: figure((s) => s.fromAcceptedMs, 99) },
  created_to_started_ms: { p50: figure((s) => s.fromCreatedMs, 50), p90: figure((s) => s.fromCreatedMs, 90), p99: figure((s) => s.fromCreatedMs, 99) },
  targets: { accepted_to_started_p50_ms: 10 },
};
printTable(`Queue latency with an idle worker: ${SAMPLES} jobs one at a time, median of ${RUNS} runs (ms; started_at has 1 ms resolution)`, [
  { from: 'the client receiving the 202', ...result.accepted_to_started_ms, target: 'p50 ≤ 10' },
  { from: 'created_at (before the enqueue)', ...result.created_to_started_ms },
]);
process.stdout.write(`→ ${await writeResults('queue-latency', result)}\n`);
