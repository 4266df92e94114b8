import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/shared/infra/config.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));

/**
 * A worker in its own process (`i2v worker`), sharing the test's Redis prefix
 * and storage, quick to notice crashed peers. `stdout: 'pipe'` keeps its log
 * lines (set LOG_LEVEL in `env`) readable on `child.stdout`.
 */
export function spawnWorker(config: Config, backendUrl: string, env: Record<string, string> = {}, { stdout = 'ignore' }: { stdout?: 'ignore' | 'pipe' } = {}): ChildProcess {
  return spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: config.REDIS_URL,
      REDIS_PREFIX: config.REDIS_PREFIX,
      STORAGE_DIR: config.STORAGE_DIR,
      BACKEND_URL: backendUrl,
      BACKEND_POLL_INTERVAL_MS: '100',
      WORKER_LOCK_MS: '1500',
      WORKER_STALLED_INTERVAL_MS: '500',
      JOB_BACKOFF_MS: '100',
      LOG_LEVEL: 'silent',
      RENDER_CACHE: String(config.RENDER_CACHE),
      ...env,
    },
    stdio: ['ignore', stdout, 'ignore'],
  });
}

export async function stopWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
