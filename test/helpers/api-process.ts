import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/shared/infra/config.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));

export interface ApiProcess {
  child: ChildProcess;
  url: string;
}

/** An API in its own process (`i2v api`), sharing the test's Redis prefix and storage; resolves once it listens. */
export async function spawnApi(config: Config, env: Record<string, string> = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, [BIN, 'api'], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: config.REDIS_URL,
      REDIS_PREFIX: config.REDIS_PREFIX,
      STORAGE_DIR: config.STORAGE_DIR,
      URL_FETCH_ALLOWLIST: config.URL_FETCH_ALLOWLIST.join(','),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!listening?.[1]) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve(listening[1]);
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`i2v api exited (${code}) before it listened:\n${output}`)));
  });
  return { child, url };
}
