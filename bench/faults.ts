/**
 * The fault drill: 50 URL jobs through 2 API processes, 3 worker processes and
 * 2 engine processes (one backend: one Redis prefix, one ENGINE_DIR; ENGINES=1
 * for one) while workers are SIGKILLed every few seconds, an engine (mid-render:
 * its renders are taken over by the other) and Redis are SIGKILLed and
 * restarted once each, and half the photos come
 * from a server that closes the socket right after the body (the other half
 * from Python's http.server). Every photo has its own pair of colours, so each
 * video is checked against its own input. Prints jobs lost, stuck, duplicated
 * renders, wrong outputs and process crashes: all should be 0.
 * `npm run bench:faults`; exits 1 (and keeps its logs) when any is not.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProcess } from '../src/shared/infra/process.ts';
import { startClosingServer, startPythonFileServer } from '../test/helpers/peers.ts';
import { baseEnv, freePort, spawnI2v, waitForHttp, type BenchProcess } from './lib/processes.ts';
import { RedisServer } from './lib/redis-server.ts';
import { writeResults } from './lib/results.ts';

const JOBS = Number(process.env.JOBS ?? 50);
const ENGINES = Number(process.env.ENGINES ?? 2);
const WORKERS = 3;
const APIS = 2;
const WORKER_KILL_EVERY_MS = [3_000, 6_000] as const;
const ENGINE_RESTART_AT_MS = 8_000;
const REDIS_RESTART_AT_MS = 16_000;
const REDIS_DOWN_MS = 3_000;
const SUBMIT_OVER_MS = 20_000;
const SETTLE_MS = 240_000;
const AUTH = { authorization: 'Bearer dev-key' };
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

const dir = await mkdtemp(path.join(tmpdir(), 'i2v-faults-'));
const photoDir = path.join(dir, 'photos');
const logDir = path.join(dir, 'logs');
await Promise.all([photoDir, logDir, path.join(dir, 'redis'), path.join(dir, 'storage')].map((d) => mkdir(d, { recursive: true })));
const runId = Date.now().toString(36);
let started = Date.now();
const elapsed = () => Date.now() - started;
const say = (line: string) => process.stdout.write(`[${(elapsed() / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

// ---- inputs: photo i is colour TOP[i % 10] over colour BOTTOM[i / 10]
type Rgb = [number, number, number];
function hue(degrees: number, value = 230): Rgb {
  const h = (degrees % 360) / 60;
  const x = value * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [value, x, 0] : h < 2 ? [x, value, 0] : h < 3 ? [0, value, x] : h < 4 ? [0, x, value] : h < 5 ? [x, 0, value] : [value, 0, x];
  return [Math.round(r), Math.round(g), Math.round(b)];
}
const TOPS = Array.from({ length: 10 }, (_, i) => hue(i * 36));
const BOTTOMS: Rgb[] = [[20, 20, 20], [240, 240, 240], [128, 128, 128], [200, 40, 120], [40, 120, 200]];
const hex = ([r, g, b]: Rgb) => `0x${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const expected = Array.from({ length: JOBS }, (_, i) => [...TOPS[i % TOPS.length]!, ...BOTTOMS[Math.floor(i / TOPS.length) % BOTTOMS.length]!]);

async function makePhoto(i: number): Promise<void> {
  const [top, bottom] = [expected[i]!.slice(0, 3) as Rgb, expected[i]!.slice(3) as Rgb];
  await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=${hex(top)}:s=1600x800`,
    '-f', 'lavfi', '-i', `color=c=${hex(bottom)}:s=1600x800`,
    '-filter_complex', '[0][1]vstack,noise=alls=14:allf=t',
    '-frames:v', '1', '-q:v', '2', path.join(photoDir, `photo-${i}.jpg`),
  ]);
}
for (let i = 0; i < JOBS; i += 6) await Promise.all(Array.from({ length: Math.min(6, JOBS - i) }, (_, k) => makePhoto(i + k)));
const closingPeer = await startClosingServer(photoDir);
const pythonPeer = await startPythonFileServer(photoDir);
const photoUrl = (i: number) => `${(i % 2 === 0 ? closingPeer : pythonPeer).url}/photo-${i}.jpg`;

// ---- the fleet: every process it did not kill itself and exits is a crash
const redis = new RedisServer(await freePort(), path.join(dir, 'redis'));
await redis.start();
const enginePorts = await Promise.all(Array.from({ length: ENGINES }, () => freePort()));
const engineUrls = enginePorts.map((port) => `http://127.0.0.1:${port}`);
const env = (extra: Record<string, string>) =>
  baseEnv(`drill-${runId}`, path.join(dir, 'storage'), { REDIS_URL: redis.url, BACKEND_URL: engineUrls[0]!, RATE_LIMIT_PER_MINUTE: '1000000', ...extra });

interface Member {
  name: string;
  start: () => BenchProcess;
  process?: BenchProcess;
  killing: boolean;
}
const crashes: { name: string; code: number | null; signal: string | null; at_s: number }[] = [];
function launch(member: Member): void {
  const proc = member.start();
  member.process = proc;
  member.killing = false;
  proc.child.once('exit', (code, signal) => {
    if (member.killing) return;
    crashes.push({ name: member.name, code, signal, at_s: elapsed() / 1000 });
    say(`${member.name} exited unasked (code ${code}, signal ${signal}); starting it again`);
    launch(member);
  });
}
async function kill(member: Member): Promise<void> {
  member.killing = true;
  const child = member.process!.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
const logFile = (name: string) => path.join(logDir, `${name}.log`);

// every engine on the drill's prefix (<REDIS_PREFIX>:engine) and one folder: one backend
const engines: Member[] = enginePorts.map((port, i) => ({
  name: `engine-${i}`,
  killing: false,
  start: () =>
    spawnI2v('engine', env({ ENGINE_PORT: String(port), ENGINE_DIR: path.join(dir, 'engine'), ENGINE_FAULTS: '1', ENGINE_RENDER_CONCURRENCY: '2' }), {
      logFile: logFile(`engine-${i}`),
    }),
}));
const engine = engines[0]!;
for (const member of engines) launch(member);
await Promise.all(engineUrls.map((url) => waitForHttp(`${url}/_engine/renders`)));
const apiPorts = await Promise.all(Array.from({ length: APIS }, () => freePort()));
const apis: Member[] = apiPorts.map((port, i) => ({
  name: `api-${i}`,
  killing: false,
  start: () => spawnI2v('api', env({ PORT: String(port), HOST: '127.0.0.1' }), { logFile: logFile(`api-${i}`) }),
}));
// every worker lists every engine (one list: workers share the backend token of one BACKEND_URL), spreads its calls over them and fails over from a dead one
const workerEnv = env({
  BACKEND_URL: engineUrls.join(','),
  URL_FETCH_ALLOWLIST: '127.0.0.1',
  WORKER_CONCURRENCY: '2',
  WORKER_LOCK_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  JOB_BACKOFF_MS: '300',
  BACKEND_POLL_INTERVAL_MS: '200',
});
const workers: Member[] = Array.from({ length: WORKERS }, (_, i) => ({
  name: `worker-${i}`,
  killing: false,
  start: () => spawnI2v('worker', workerEnv, { logFile: logFile(`worker-${i}`) }),
}));
for (const member of [...apis, ...workers]) launch(member);
const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
await Promise.all(apiUrls.map((url) => waitForHttp(`${url}/healthz`)));
started = Date.now(); // the schedule counts from here
say(`fleet up: redis :${redis.port}, ${ENGINES} engines :${enginePorts.join(', :')}, ${APIS} APIs, ${WORKERS} workers`);

// ---- renders the backend knows (in Redis: they outlive an engine's restart)
const completedRenders: Map<string, Set<string>>[] = [new Map()];
async function sampleRenders(): Promise<void> {
  let reply: Response | undefined;
  for (const url of engineUrls) {
    reply = await fetch(`${url}/_engine/renders`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (reply?.ok) break;
  }
  if (!reply?.ok) return;
  const { data } = (await reply.json()) as { data: { renders: { id: string; status: string }[] } };
  const life = completedRenders.at(-1)!;
  for (const render of data.renders) {
    if (render.status !== 'completed') continue;
    const job = render.id.replace(/^render_/, '').replace(/_\d+$/, '');
    life.set(job, (life.get(job) ?? new Set()).add(render.id));
  }
}

// ---- the client: submits with an Idempotency-Key and retries through either API
const ids: (string | undefined)[] = Array.from({ length: JOBS });
const refusals = new Map<string, number>();
async function submit(i: number): Promise<void> {
  for (let attempt = 0; elapsed() < SUBMIT_OVER_MS + SETTLE_MS; attempt++) {
    const api = apiUrls[(i + attempt) % apiUrls.length]!;
    const reply = await fetch(`${api}/v1/jobs`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': `drill-${runId}-${i}` },
      body: JSON.stringify({ images: [photoUrl(i)], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p', motion: 'zoom-in' } }),
      signal: AbortSignal.timeout(10_000),
    }).catch((error: Error) => error);
    if (!(reply instanceof Error) && reply.ok) {
      ids[i] = ((await reply.json()) as { id: string }).id;
      return;
    }
    const why = reply instanceof Error ? reply.name : String(reply.status);
    refusals.set(why, (refusals.get(why) ?? 0) + 1);
    if (!(reply instanceof Error)) await reply.body?.cancel();
    await sleep(300);
  }
}
async function statusOf(id: string, attempt = 0): Promise<{ status: string; error?: { code: string } } | undefined> {
  const reply = await fetch(`${apiUrls[attempt % apiUrls.length]}/v1/jobs/${id}`, { headers: AUTH, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (reply?.ok) return (await reply.json()) as { status: string; error?: { code: string } };
  await reply?.body?.cancel();
  return attempt < 3 ? statusOf(id, attempt + 1) : undefined;
}

// ---- faults on a schedule, while jobs are submitted and run
let workerKills = 0;
let engineRestarted = false;
let redisRestarted = false;
let nextWorkerKill = WORKER_KILL_EVERY_MS[0];
async function faultTick(): Promise<void> {
  if (elapsed() >= nextWorkerKill) {
    const member = workers[Math.floor(Math.random() * workers.length)]!;
    await kill(member);
    launch(member);
    workerKills++;
    say(`SIGKILL ${member.name} (kill ${workerKills})`);
    nextWorkerKill = elapsed() + WORKER_KILL_EVERY_MS[0] + Math.random() * (WORKER_KILL_EVERY_MS[1] - WORKER_KILL_EVERY_MS[0]);
  }
  if (!engineRestarted && elapsed() >= ENGINE_RESTART_AT_MS) {
    engineRestarted = true;
    await sampleRenders();
    await kill(engine);
    launch(engine);
    say(`SIGKILL ${engine.name}, started again`);
  }
  if (!redisRestarted && elapsed() >= REDIS_RESTART_AT_MS) {
    redisRestarted = true;
    await redis.kill();
    say(`SIGKILL redis-server; down for ${REDIS_DOWN_MS / 1000} s`);
    await sleep(REDIS_DOWN_MS);
    await redis.start();
    say('redis-server started again on its AOF');
  }
}

const submissions = Array.from({ length: JOBS }, async (_, i) => {
  await sleep((i * SUBMIT_OVER_MS) / JOBS);
  await submit(i);
});
let submitted = false;
void Promise.all(submissions).then(() => (submitted = true));
const statuses = new Map<string, { status: string; error?: { code: string } }>();
let lastFaultAt = 0;
for (;;) {
  await faultTick();
  await sampleRenders();
  if (!redisRestarted || workerKills < 3) lastFaultAt = elapsed();
  const pending = ids.filter((id): id is string => Boolean(id) && !TERMINAL.has(statuses.get(id!)?.status ?? ''));
  for (const id of pending) {
    const view = await statusOf(id);
    if (view) statuses.set(id, view);
  }
  const settled = submitted && ids.every((id) => id && TERMINAL.has(statuses.get(id)?.status ?? ''));
  if ((settled && redisRestarted && engineRestarted) || elapsed() - lastFaultAt > SETTLE_MS) break;
  await sleep(500);
}
await sampleRenders();

// ---- the figures
const refs = expected;
async function signature(id: string): Promise<number[] | undefined> {
  const reply = await fetch(`${apiUrls[0]}/v1/jobs/${id}/video`, { headers: AUTH }).catch(() => undefined);
  if (!reply?.ok) return undefined;
  const file = path.join(dir, `${id}.mp4`);
  await writeFile(file, Buffer.from(await reply.arrayBuffer()));
  const frame = path.join(dir, `${id}.rgb`);
  await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-ss', '0.5', '-i', file, '-frames:v', '1', '-vf', 'scale=1:2:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', frame]);
  return [...(await readFile(frame))];
}
const distance = (a: number[], b: number[]) => Math.sqrt(a.reduce((sum, v, k) => sum + (v - b[k]!) ** 2, 0));
const wrong: { job: string; input: number; nearest: number }[] = [];
const failedCodes = new Map<string, number>();
let succeeded = 0;
for (const [i, id] of ids.entries()) {
  const view = id ? statuses.get(id) : undefined;
  if (view?.status === 'failed') failedCodes.set(view.error?.code ?? 'unknown', (failedCodes.get(view.error?.code ?? 'unknown') ?? 0) + 1);
  if (view?.status !== 'succeeded') continue;
  succeeded++;
  const seen = await signature(id!);
  const nearest = seen ? refs.map((ref, k) => [distance(seen, ref), k] as const).sort((a, b) => a[0] - b[0])[0]![1] : -1;
  if (nearest !== i) wrong.push({ job: id!, input: i, nearest });
}
const duplicated = completedRenders.flatMap((life) => [...life].filter(([, renders]) => renders.size > 1).map(([job, renders]) => ({ job, renders: [...renders] })));
const figures = {
  jobs: JOBS,
  api_processes: APIS,
  worker_processes: WORKERS,
  engine_processes: ENGINES,
  worker_sigkills: workerKills,
  engine_restarts: engineRestarted ? 1 : 0,
  redis_restarts: redisRestarted ? 1 : 0,
  seconds: Math.round(elapsed() / 100) / 10,
  accepted: ids.filter(Boolean).length,
  succeeded,
  failed: Object.fromEntries(failedCodes),
  lost: ids.filter((id) => !id || !statuses.has(id)).length,
  stuck: ids.filter((id) => id && statuses.has(id) && !TERMINAL.has(statuses.get(id)!.status)).length,
  duplicated_renders: duplicated.length,
  wrong_outputs: wrong.length,
  process_crashes: crashes.length,
  submit_refusals: Object.fromEntries(refusals),
  details: { duplicated, wrong, crashes },
};
const clean = figures.lost + figures.stuck + figures.duplicated_renders + figures.wrong_outputs + figures.process_crashes === 0 && succeeded === JOBS;
process.stdout.write(
  `\nfault drill: ${JOBS} URL jobs (half from a connection-closing server, half from python3 -m http.server), ` +
    `${APIS} APIs, ${WORKERS} workers, ${ENGINES} engines; ${workerKills} worker SIGKILLs, an engine and redis-server SIGKILLed and restarted once each; ${figures.seconds} s\n` +
    `  succeeded ${succeeded}  failed ${JOBS - succeeded - figures.lost - figures.stuck}${failedCodes.size ? ` (${[...failedCodes].map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}\n` +
    `  lost ${figures.lost}  stuck ${figures.stuck}  duplicated renders ${figures.duplicated_renders}  wrong outputs ${figures.wrong_outputs}  process crashes ${figures.process_crashes}\n` +
    `  submissions refused then retried: ${[...refusals].map(([why, n]) => `${why} ×${n}`).join(', ') || 'none'}\n`,
);
if (wrong.length || duplicated.length || crashes.length) process.stdout.write(`  details: ${JSON.stringify(figures.details)}\n`);
process.stdout.write(`  results: ${await writeResults('faults', figures)}\n`);

for (const member of [...engines, ...apis, ...workers]) await kill(member);
await redis.kill();
await Promise.all([closingPeer.close(), pythonPeer.close()]);
if (clean) await rm(dir, { recursive: true, force: true });
else process.stdout.write(`  logs kept in ${logDir}\n`);
process.exit(clean ? 0 : 1);
