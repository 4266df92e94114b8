import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { testEnginePrefix } from '../engine/protocol-client.ts';
import { stopWorker } from './worker-process.ts';

export { dropEngineKeys } from '../engine/protocol-client.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export { freePort } from '../../bench/lib/processes.ts';

export interface EngineProcess {
  child: ChildProcess;
  url: string;
  /** its ENGINE_REDIS_PREFIX: pass it (and the same dir) to another engine to join the same backend */
  redisPrefix: string;
}

/**
 * The embedded engine as its own process (`i2v engine`) on `port`, with its
 * data in `dir`, its admin routes on, and the suite's Redis under a prefix
 * of its own unless `env` names one (ENGINE_REDIS_PREFIX); resolves once it
 * answers HTTP. Start it again on the same port, folder and prefix to stand
 * for an engine restart; `dropEngineKeys(engine.redisPrefix)` when done.
 */
export async function spawnEngine(port: number, dir: string, env: Record<string, string> = {}): Promise<EngineProcess> {
  const redisPrefix = env.ENGINE_REDIS_PREFIX ?? testEnginePrefix();
  const child = spawn(process.execPath, [BIN, 'engine'], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: inject('redisUrl'),
      ENGINE_HOST: '127.0.0.1',
      ENGINE_PORT: String(port),
      ENGINE_DIR: dir,
      ENGINE_FAULTS: '1',
      LOG_LEVEL: 'silent',
      ...env,
      ENGINE_REDIS_PREFIX: redisPrefix,
    },
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
    if (answered) return { child, url, redisPrefix };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`i2v engine did not answer on ${url}`);
    }
    await sleep(50);
  }
}

/** True while the engine process has an ffmpeg child: the encoder of a render it runs (the renderer spawns it itself). */
export const isRendering = (engine: EngineProcess) =>
  promisify(execFile)('pgrep', ['-P', String(engine.child.pid), '-x', 'ffmpeg']).then(
    () => true,
    () => false,
  );

/** Stops the engine process (SIGKILL: an engine that dies with everything it held in memory). */
export const stopEngine = (engine: EngineProcess, signal: NodeJS.Signals = 'SIGTERM') => stopWorker(engine.child, signal);
