import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));
const ticksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

/** A child process of a benchmark, stopped with SIGTERM (then SIGKILL) when done. */
export interface BenchProcess {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** node flags before the script, e.g. --cpu-prof */
  nodeArgs?: string[];
  /** where stdout and stderr go (the process's log lines); dropped when unset */
  logFile?: string;
}

/** The environment every benchmarked process shares: this machine's Redis, one prefix, one storage folder. */
export function baseEnv(prefix: string, storageDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    STORAGE_DIR: storageDir,
    LOG_LEVEL: 'info',
    // benchmarks send the same work again and again to measure rendering it: the render cache would answer all but the first
    RENDER_CACHE: 'false',
    ...extra,
  };
}

function spawnNode(args: string[], env: Record<string, string>, options: SpawnOptions): BenchProcess {
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], { env, stdio: ['ignore', out, out] });
  return {
    child,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `i2v api|worker|engine` as its own process. */
export function spawnI2v(command: 'api' | 'worker' | 'engine', env: Record<string, string>, options: SpawnOptions = {}): BenchProcess {
  return spawnNode([BIN, command], env, options);
}

/** A TypeScript script of the benchmarks as its own process. */
export function spawnScript(script: string, args: string[], env: Record<string, string>, options: SpawnOptions = {}): BenchProcess {
  return spawnNode(['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], env, options);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits until `url` answers 2xx (a process that has started listening). */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** CPU and memory of one process, from /proc. */
export interface ProcessStats {
  /** user + system CPU of the process itself */
  cpuMs: number;
  /**
   * user + system CPU of all its descendants: those that have exited (and were
   * waited for) and those still running, such as a worker's process launcher
   * and the ffmpeg/ffprobe it runs
   */
  childrenCpuMs: number;
  rssKb: number;
  /** peak RSS so far */
  hwmKb: number;
}

const ticksToMs = (ticks: string | undefined) => (Number(ticks) / ticksPerSecond) * 1000;

/** The fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses); undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

function liveChildren(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((child) => statFields(child)?.[1] === String(pid));
}

/** CPU of a process's descendants, exited and running. */
function descendantsCpuMs(pid: number, fields: string[]): number {
  const exited = ticksToMs(fields[13]) + ticksToMs(fields[14]);
  return liveChildren(pid).reduce((sum, child) => {
    const childFields = statFields(child);
    return childFields ? sum + ticksToMs(childFields[11]) + ticksToMs(childFields[12]) + descendantsCpuMs(child, childFields) : sum;
  }, exited);
}

export function processStats(pid: number): ProcessStats {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone`);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpuMs: ticksToMs(fields[11]) + ticksToMs(fields[12]),
    childrenCpuMs: descendantsCpuMs(pid, fields),
    rssKb: kb('VmRSS'),
    hwmKb: kb('VmHWM'),
  };
}
