import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './engine-process.ts';

const run = promisify(execFile);

/** Redis processes of one test, in one temp folder, stopped (and the folder removed) together. */
export interface RedisSet {
  dir: string;
  /** what the service is configured with (REDIS_* variables) */
  env: Record<string, string>;
  /** redis-cli against one of the set's processes */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

class Processes {
  readonly children: ChildProcess[] = [];

  constructor(readonly dir: string) {}

  start(args: string[]): ChildProcess {
    const child = spawn('redis-server', args, { cwd: this.dir, stdio: 'ignore' });
    this.children.push(child);
    // a test that times out before its afterAll has run leaves no redis-server behind when the test process exits
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    return child;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map((child) =>
        child.exitCode !== null || child.signalCode !== null ? undefined : new Promise<void>((resolve) => child.once('exit', () => resolve()).kill('SIGKILL')),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A reply of field/value lines (SENTINEL MASTER, one entry of SENTINEL REPLICAS) as a map. */
function fields(reply: string): Map<string, string> {
  const lines = reply.split('\n');
  return new Map(lines.flatMap((line, i) => (i % 2 === 0 ? [[line, lines[i + 1] ?? ''] as [string, string]] : [])));
}

async function cli(port: number, tls: string[], ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...tls, ...args]);
  return stdout.trim();
}

/** Polls `check` (every 100 ms) until it answers true; no deadline of its own (the test's timeout is the bound). */
export async function until(check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const EPHEMERAL = ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'];

/** A Redis Cluster of three masters and three replicas, joined with `redis-cli --cluster create`. */
export async function startCluster(): Promise<RedisSet> {
  const processes = new Processes(await mkdtemp(path.join(tmpdir(), 'i2v-cluster-')));
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const busPort = await freePort();
    ports.push(port);
    processes.start(['--port', String(port), '--cluster-port', String(busPort), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', ...EPHEMERAL]);
  }
  const set: RedisSet = { dir: processes.dir, env: { REDIS_CLUSTER_NODES: ports.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(',') }, cli: (port, ...args) => cli(port, [], ...args), stop: () => processes.stop() };
  try {
    for (const port of ports) await until(async () => (await set.cli(port, 'PING')) === 'PONG');
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    for (const port of ports) await until(async () => (await set.cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    return set;
  } catch (error) {
    await set.stop();
    throw error;
  }
}

export interface SentinelSet extends RedisSet {
  master: string;
  /** the port the sentinels name as the master now */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once every sentinel names the replica as the master, and the old master is back as its replica */
  failover(): Promise<number>;
  /**
   * SIGKILLs the master's process; resolves once every sentinel names the
   * replica as the master, and the killed node is back as its replica (so
   * the set can fail over again)
   */
  killMaster(): Promise<number>;
}

/** One master, one replica, three sentinels (quorum 2, down after 1 s). */
export async function startSentinels(): Promise<SentinelSet> {
  const processes = new Processes(await mkdtemp(path.join(tmpdir(), 'i2v-sentinel-')));
  const master = 'i2vmaster';
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const startReplica = (port: number, of: number) => processes.start(['--port', String(port), '--replicaof', '127.0.0.1', String(of), ...EPHEMERAL]);
  const dataNodes = new Map([
    [masterPort, processes.start(['--port', String(masterPort), ...EPHEMERAL])],
    [replicaPort, startReplica(replicaPort, masterPort)],
  ]);
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    const file = path.join(processes.dir, `sentinel-${port}.conf`);
    await writeFile(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${master} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${master} 1000`,
        `sentinel failover-timeout ${master} 5000`,
        `sentinel parallel-syncs ${master} 1`,
        '',
      ].join('\n'),
    );
    processes.start([file, '--sentinel']);
  }
  const call = (port: number, ...args: string[]) => cli(port, [], ...args);
  const masterPortNow = async () => Number((await call(sentinelPorts[0] as number, 'SENTINEL', 'get-master-addr-by-name', master)).split('\n')[1]);
  const switchedFrom = async (before: number) => {
    for (const port of sentinelPorts) {
      await until(async () => Number((await call(port, 'SENTINEL', 'get-master-addr-by-name', master)).split('\n')[1]) !== before);
    }
    return masterPortNow();
  };
  /** the replica is in sync, and every sentinel sees it up and knows the two other sentinels: a failover can be asked for */
  const ready = async () => {
    let replica = 0;
    await until(async () => {
      const now = await masterPortNow();
      replica = [...dataNodes.keys()].find((port) => port !== now) as number;
      return dataNodes.has(now);
    });
    await until(async () => (await call(replica, 'INFO', 'replication')).includes('master_link_status:up'));
    for (const port of sentinelPorts) {
      await until(async () => {
        const info = fields(await call(port, 'SENTINEL', 'master', master));
        const replicas = (await call(port, 'SENTINEL', 'replicas', master)).split(/\n(?=name\n)/).map(fields);
        const seen = replicas.find((r) => r.get('port') === String(replica));
        return info.get('num-other-sentinels') === '2' && seen !== undefined && !/s_down|disconnected/.test(seen.get('flags') ?? '');
      });
    }
  };
  const set: SentinelSet = {
    dir: processes.dir,
    master,
    env: { REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_MASTER: master },
    cli: call,
    masterPort: masterPortNow,
    async failover() {
      const before = await masterPortNow();
      await call(sentinelPorts[0] as number, 'SENTINEL', 'FAILOVER', master);
      const after = await switchedFrom(before);
      await ready();
      return after;
    },
    async killMaster() {
      const before = await masterPortNow();
      const killed = dataNodes.get(before);
      await new Promise((resolve) => killed?.once('exit', resolve).kill('SIGKILL'));
      const after = await switchedFrom(before);
      dataNodes.set(before, startReplica(before, after));
      await ready();
      return after;
    },
    stop: () => processes.stop(),
  };
  try {
    await ready();
    return set;
  } catch (error) {
    await set.stop();
    throw error;
  }
}

export interface TlsRedis extends RedisSet {
  /** the files of a private CA and of a client certificate it signed */
  files: { ca: string; cert: string; key: string };
}

/** A Redis that speaks TLS only, with a server certificate from a private CA, and asks clients for a certificate of that CA. */
export async function startTlsRedis(): Promise<TlsRedis> {
  const processes = new Processes(await mkdtemp(path.join(tmpdir(), 'i2v-tls-')));
  const file = (name: string) => path.join(processes.dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: processes.dir });
  try {
    await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=i2v test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
    for (const [name, subject, extension] of [
      ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ['client', '/CN=i2v', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      await writeFile(file(`${name}.ext`), `${extension}\n`);
      await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    }
    const port = await freePort();
    processes.start([
      '--port', '0', '--tls-port', String(port), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'),
      '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', 'yes', ...EPHEMERAL,
    ]);
    const tls = ['--tls', '--cacert', file('ca.crt'), '--cert', file('client.crt'), '--key', file('client.key')];
    const set: TlsRedis = {
      dir: processes.dir,
      files: { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') },
      env: { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_TLS_CA: file('ca.crt'), REDIS_TLS_CERT: file('client.crt'), REDIS_TLS_KEY: file('client.key') },
      cli: (p, ...args) => cli(p, tls, ...args),
      stop: () => processes.stop(),
    };
    await until(async () => (await set.cli(port, 'PING')) === 'PONG');
    return set;
  } catch (error) {
    await processes.stop();
    throw error;
  }
}
