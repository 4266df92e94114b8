import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stopWorker } from './worker-process.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export { freePort } from '../../bench/lib/processes.ts';

export interface EngineProcess {
  child: ChildProcess;
  url: string;
}

/**
 * The embedded engine as its own process (`i2v engine`) on `port`, with its
 * data in `dir` and its admin routes on; resolves once it answers HTTP. Start
 * it again on the same port and folder to stand for an engine restart.
 */
export async function spawnEngine(port: number, dir: string, env: Record<string, string> = {}): Promise<EngineProcess> {
  const child = spawn(process.execPath, [BIN, 'engine'], {
    env: { PATH: process.env.PATH ?? '', ENGINE_HOST: '127.0.0.1', ENGINE_PORT: String(port), ENGINE_DIR: dir, ENGINE_FAULTS: '1', LOG_LEVEL: 'silent', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`i2v engine exited with ${child.exitCode}`);
    const answered = await fetch(`${url}/_engine/faults`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return { child, url };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`i2v engine did not answer on ${url}`);
    }
    await sleep(50);
  }
}

/** Stops the engine process (SIGKILL: an engine that dies with everything it held in memory). */
export const stopEngine = (engine: EngineProcess, signal: NodeJS.Signals = 'SIGTERM') => stopWorker(engine.child, signal);
