/**
 * A 200 MB multipart upload to the API process: MB/s and the API's peak RSS
 * growth (the API streams uploads to storage; the target is ≤ 64 MB).
 * `npm run bench:upload`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { writeResults } from './lib/results.ts';
import { median } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

const SIZE_MB = Number(process.env.SIZE_MB ?? 200);
const RUNS = 3;
const BIN = fileURLToPath(new URL('../bin/i2v.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'i2v-upload-'));

// a JPEG header followed by filler: accepted by content, streamed like any large file
const file = path.join(dir, 'big.jpg');
const out = createWriteStream(file);
out.write(Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'));
const chunk = randomBytes(1024 * 1024);
for (let i = 0; i < SIZE_MB; i++) out.write(chunk);
await new Promise((resolve) => out.end(resolve));

const rssKb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

const port = 20000 + Math.floor(Math.random() * 20000);
const api = spawn(process.execPath, [BIN, 'api'], {
  env: {
    PATH: process.env.PATH ?? '',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    STORAGE_DIR: path.join(dir, 'storage'),
    PORT: String(port),
    MAX_UPLOAD_MB: String(SIZE_MB + 10),
    LOG_LEVEL: 'warn',
  },
  stdio: 'ignore',
});
const url = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) {
  if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
  await new Promise((r) => setTimeout(r, 100));
}

const results: { mbPerS: number; rssGrowthMb: number }[] = [];
for (let run = 0; run < RUNS; run++) {
  const baseline = await rssKb(api.pid as number);
  let peak = baseline;
  const sampler = setInterval(() => void rssKb(api.pid as number).then((kb) => (peak = Math.max(peak, kb))), 20);
  const form = new FormData();
  form.append('file', await openAsBlob(file, { type: 'image/jpeg' }), 'big.jpg');
  const started = performance.now();
  const response = await fetch(`${url}/v1/uploads`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  results.push({ mbPerS: SIZE_MB / seconds, rssGrowthMb: (peak - baseline) / 1024 });
}
const summary = {
  size_mb: SIZE_MB,
  runs: RUNS,
  mb_per_s_median: Math.round(median(results.map((r) => r.mbPerS))),
  rss_growth_mb_median: Math.round(median(results.map((r) => r.rssGrowthMb)) * 10) / 10,
  rss_growth_mb_max: Math.round(Math.max(...results.map((r) => r.rssGrowthMb)) * 10) / 10,
  targets: { rss_growth_mb: 64 },
  per_run: results,
};
process.stdout.write(`\nupload of ${SIZE_MB} MB to POST /v1/uploads (median of ${RUNS}): ${summary.mb_per_s_median} MB/s, API RSS growth ${summary.rss_growth_mb_median} MB (max ${summary.rss_growth_mb_max} MB)\n`);
printTable(`Upload: ${SIZE_MB} MB multipart to POST /v1/uploads, median of ${RUNS}`, [
  { measure: 'MB/s', value: summary.mb_per_s_median },
  { measure: 'API RSS growth (MB), median / max', value: `${summary.rss_growth_mb_median} / ${summary.rss_growth_mb_max}`, target: '≤ 64' },
]);
process.stdout.write(`→ ${await writeResults('upload', summary)}\n`);
api.kill('SIGTERM');
await rm(dir, { recursive: true, force: true });
