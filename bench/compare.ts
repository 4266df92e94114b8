/**
 * `npm run bench:compare -- <git ref>`: the five service benchmarks of
 * `npm run bench`, run alternately on the ref (a temporary worktree sharing
 * this checkout's node_modules) and on this checkout, so both meet the same
 * machine; then one table of each measure side by side with their ratio.
 * For redesign work: "no regression beyond noise against main before the
 * change" is this table. BENCHES=ingest,soak picks some; ROUNDS=2 repeats.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisAnswers, startPrivateRedis, type PrivateRedis } from '../src/cli/private-redis.ts';
import { BENCHES, measures, runBench, type Bench, type Measure } from './lib/bench-suite.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const ref = process.argv[2];
if (!ref) {
  process.stderr.write('usage: npm run bench:compare -- <git ref>\n');
  process.exit(2);
}
const here = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const git = (...args: string[]) => execFileSync('git', args, { cwd: here, encoding: 'utf8' }).trim();
const chosen = (process.env.BENCHES?.split(',') ?? BENCHES) as Bench[];
const rounds = Number(process.env.ROUNDS ?? 1);

let privateRedis: PrivateRedis | undefined;
if (!(await redisAnswers(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'))) {
  privateRedis = await startPrivateRedis();
  process.env.REDIS_URL = privateRedis.url;
}

const baseCommit = git('rev-parse', '--short', ref);
const headCommit = git('rev-parse', '--short', 'HEAD');
const baseTree = path.join(tmpdir(), `i2v-bench-${baseCommit}-${process.pid}`);
git('worktree', 'add', '--detach', baseTree, ref);
await symlink(path.join(here, 'node_modules'), path.join(baseTree, 'node_modules'));

const sides = [
  { label: `${ref} (${baseCommit})`, root: baseTree },
  { label: `HEAD (${headCommit})`, root: here },
];
const figures = new Map<string, Measure[][]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const bench of chosen) {
      for (const side of sides) {
        process.stdout.write(`\n=== ${bench} on ${side.label}, round ${round + 1} ===\n`);
        const file = await runBench(bench, side.root);
        const key = `${bench}\0${side.label}`;
        const runs = figures.get(key) ?? [];
        if (file) runs.push(measures[bench](JSON.parse(await readFile(file, 'utf8'))));
        figures.set(key, runs);
      }
    }
  }
} finally {
  git('worktree', 'remove', '--force', baseTree);
  await rm(baseTree, { recursive: true, force: true });
  await privateRedis?.stop();
}

const [base, head] = sides as [(typeof sides)[0], (typeof sides)[0]];
const medianOf = (bench: Bench, label: string, index: number) => {
  const values = (figures.get(`${bench}\0${label}`) ?? []).map((run) => run[index]?.value).filter((v): v is number => Number.isFinite(v));
  return values.length ? median(values) : undefined;
};
const rows = chosen.flatMap((bench) => {
  const names = (figures.get(`${bench}\0${head.label}`)?.[0] ?? figures.get(`${bench}\0${base.label}`)?.[0] ?? []);
  return names.map((measure, index) => {
    const before = medianOf(bench, base.label, index);
    const after = medianOf(bench, head.label, index);
    const ratio = before && after !== undefined ? after / before : undefined;
    return {
      bench,
      measure: `${measure.name} (${measure.better} is better)`,
      [base.label]: before ?? 'did not finish',
      [head.label]: after ?? 'did not finish',
      'HEAD / ref': ratio === undefined ? '' : ratio.toFixed(2),
    };
  });
});
printTable(`npm run bench:compare: medians of ${rounds} round(s), the two sides alternating`, rows);
