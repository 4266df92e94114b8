import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `i2v <command>` until it exits, or until `until` matches its output (then stops it). */
function runCli(args: string[], env: Record<string, string>, until?: RegExp, timeoutMs = 30_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`i2v ${args.join(' ')} did not finish: ${stdout}\n${stderr}`));
    }, timeoutMs);
    let stopping = false;
    const check = () => {
      if (!stopping && until && until.test(stdout + stderr)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', (d) => ((stdout += d), check()));
    child.stderr.on('data', (d) => ((stderr += d), check()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the i2v processes', () => {
  it('stop at start-up with one message naming every bad variable', async () => {
    const result = await runCli(['api'], { PORT: 'eighty', REDIS_URL: 'http://nope', WORKER_CONCURRENCY: '-1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Invalid configuration:/);
    for (const name of ['PORT', 'REDIS_URL', 'WORKER_CONCURRENCY']) expect(result.stderr).toContain(name);
  });

  it('refuse to serve the API in production without API_KEYS', async () => {
    const result = await runCli(['api'], { NODE_ENV: 'production', REDIS_URL: inject('redisUrl') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('API_KEYS: required when NODE_ENV=production');
  });

  it('warn with the dev key when the API runs without API_KEYS, and stop cleanly on SIGTERM', async () => {
    const result = await runCli(['api'], { REDIS_URL: inject('redisUrl'), PORT: '0', REDIS_PREFIX: 'test-cli' }, /Server listening/);
    expect(result.stdout).toContain('whose key is \\"dev-key\\"');
    expect(result.stdout).toContain('"level":40');
    expect(result.code).toBe(0);
  });
});
