import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  url: string;
  port: number;
  /** the folder it keeps its files in */
  dir: string;
  /** the redis-server process (tests stop and kill it) */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** a free port by default; a restart passes the old one */
  port?: number;
  /** a temp folder, removed on stop(), by default; a folder given here is kept */
  dir?: string;
  /** keep the data in an append-only file in `dir` (survives a restart) */
  appendOnly?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when a Redis answers PING at the URL within a short time. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `redis-server` from the PATH on a free loopback port, in a temp
 * folder, persisting nothing unless asked. Used by the all-in-one command
 * and the tests when no Redis is configured, and by tests that stop and
 * restart a Redis under a running service.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'i2v-redis-')));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no', '--dir', dir],
    // its own process group: a Ctrl-C reaches the all-in-one supervisor alone, and Redis stays up until the parts have closed
    { stdio: 'ignore', detached: true },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', resolve);
  });
  await spawned;
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(url, 200)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(url))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${port}`);
  }
  return {
    url,
    port,
    dir,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        // a stopped (SIGSTOP) server would not act on SIGTERM until continued
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
