/**
 * 20 jobs through 3 worker processes while workers are SIGKILLed at random,
 * against the embedded engine: prints jobs lost, duplicate renders and
 * duplicate instructions (all should be 0). `npm run bench:crash`.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startApi } from '../src/api/server.ts';
import { startEngine } from '../src/engine/app.ts';
import { engineRedisPrefixOf, loadConfig } from '../src/shared/infra/config.ts';
import { createLogger } from '../src/shared/infra/logger.ts';
import { runProcess } from '../src/shared/infra/process.ts';
import { spawnWorker, stopWorker } from '../test/helpers/worker-process.ts';

const JOBS = Number(process.env.JOBS ?? 20);
const WORKERS = 3;
const KILL_EVERY_MS = [800, 2500];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = await mkdtemp(path.join(tmpdir(), 'i2v-soak-'));
const config = loadConfig({
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
  STORAGE_DIR: path.join(dir, 'storage'),
  PORT: '0',
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '1000000',
  RENDER_CACHE: 'false',
});
const logger = createLogger({ level: 'silent' });
const engine = await startEngine({ dataDir: path.join(dir, 'engine'), logger, redis: config, redisPrefix: engineRedisPrefixOf(config), faults: true, noTextRate: 0.3, renderConcurrency: 2 });
const api = await startApi(config, logger, engine.url);
const photoPath = path.join(dir, 'p.jpg');
await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480', '-frames:v', '1', photoPath]);
const photo = new Blob([await readFile(photoPath)], { type: 'image/jpeg' });

const workers: ChildProcess[] = Array.from({ length: WORKERS }, () => spawnWorker(config, engine.url, { WORKER_CONCURRENCY: '2' }));
const ids: string[] = [];
for (let i = 0; i < JOBS; i++) {
  const form = new FormData();
  form.append('images', photo, `p${i}.jpg`);
  form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
  const response = await fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
  ids.push(((await response.json()) as { id: string }).id);
}

const started = Date.now();
let kills = 0;
/** every job's status, in one list call */
async function status(): Promise<string[]> {
  const list = (await (await fetch(`${api.url}/v1/jobs?limit=100`, { headers: { authorization: 'Bearer dev-key' } })).json()) as { data: { id: string; status: string }[] };
  const byId = new Map(list.data.map((job) => [job.id, job.status]));
  return ids.map((id) => byId.get(id) ?? 'missing');
}
let nextKill = Date.now() + KILL_EVERY_MS[0]!;
for (;;) {
  const statuses = await status();
  if (statuses.every((s) => s !== 'queued' && s !== 'running')) break;
  if (Date.now() - started > 240_000) break;
  if (Date.now() >= nextKill) {
    const index = Math.floor(Math.random() * workers.length);
    await stopWorker(workers[index]!, 'SIGKILL');
    workers[index] = spawnWorker(config, engine.url, { WORKER_CONCURRENCY: '2' });
    kills++;
    nextKill = Date.now() + KILL_EVERY_MS[0]! + Math.random() * (KILL_EVERY_MS[1]! - KILL_EVERY_MS[0]!);
  }
  await sleep(250);
}
const statuses = await status();
const stats = (await (await fetch(`${engine.url}/_engine/stats`)).json()) as { data: { sessions: { instructions: number; renders: number }[] } };
const instructions = stats.data.sessions.reduce((n, s) => n + s.instructions, 0);
const renders = stats.data.sessions.reduce((n, s) => n + s.renders, 0);
const succeeded = statuses.filter((s) => s === 'succeeded').length;
const result = {
  jobs: JOBS,
  workers: WORKERS,
  kills,
  seconds: Math.round((Date.now() - started) / 100) / 10,
  succeeded,
  lost: JOBS - succeeded,
  duplicate_renders: renders - succeeded,
  duplicate_instructions: instructions - succeeded,
  cores: cpus().length,
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim(),
};
process.stdout.write(`\ncrash soak: ${JOBS} jobs, ${WORKERS} worker processes, ${kills} SIGKILLs in ${result.seconds} s\n`);
process.stdout.write(`  succeeded ${succeeded}  lost ${result.lost}  duplicate renders ${result.duplicate_renders}  duplicate instructions ${result.duplicate_instructions}\n`);
await writeFile(path.join('bench', 'results', `crash-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2));

await Promise.all(workers.map((w) => stopWorker(w, 'SIGKILL')));
await api.close();
await engine.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
