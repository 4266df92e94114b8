/**
 * `npm run bench`: the five service benchmarks one after another, each in
 * its own process, then one table of their headline figures beside their
 * targets. Figures are printed, never asserted: the exit code says only
 * whether every benchmark ran. Without a Redis at REDIS_URL a private
 * redis-server is started for the run. The renderer's own benchmark is
 * `npm run bench:render`.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { redisAnswers, startPrivateRedis, type PrivateRedis } from '../src/cli/private-redis.ts';
import { BENCHES, headline, runBench, type Figures } from './lib/bench-suite.ts';
import { printTable } from './lib/table.ts';

let privateRedis: PrivateRedis | undefined;
if (!(await redisAnswers(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'))) {
  privateRedis = await startPrivateRedis();
  process.env.REDIS_URL = privateRedis.url;
  process.stdout.write(`no Redis at REDIS_URL: the benchmarks use a private redis-server at ${privateRedis.url}\n`);
}
const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

const rows: Record<string, string>[] = [];
let failed = 0;
for (const bench of BENCHES) {
  process.stdout.write(`\n=== ${bench} ===\n`);
  const file = await runBench(bench, root);
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
