import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/lib/processes.ts';

/**
 * Peers that stand, in a BACKEND_URL list, for a backend address that does
 * not answer: nothing listening, a load balancer answering 503, a proxy that
 * dies, a peer that takes a request and drops the connection.
 */

/** A loopback URL with nothing listening on its port (connect: ECONNREFUSED). */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

export interface CountingPeer {
  url: string;
  /** requests this peer has received */
  hits(): number;
  close(): Promise<void>;
}

const UNAVAILABLE_PEER = fileURLToPath(new URL('./unavailable-peer.py', import.meta.url));

/** Python's http.server answering every request 503 (test/helpers/unavailable-peer.py). */
export async function startUnavailablePeer(): Promise<CountingPeer> {
  const child = spawn('python3', ['-u', UNAVAILABLE_PEER], { stdio: ['ignore', 'pipe', 'inherit'] });
  let hits = 0;
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`unavailable-peer.py exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('hit ')) hits += 1;
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Tracks a server's sockets so that `kill` can cut every one of them, as a process that dies does. */
function tracked(server: Server): { kill(): Promise<void> } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  return {
    async kill() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

export interface TcpProxy {
  url: string;
  /** connections taken */
  connections(): number;
  /** the port connections are forwarded to; until set, connections are refused by closing them */
  forwardTo(port: number): void;
  /** stops listening and cuts every connection at once */
  kill(): Promise<void>;
}

/** A TCP proxy on a loopback port, forwarding each connection to `forwardTo`'s port. */
export async function startTcpProxy(): Promise<TcpProxy> {
  let target: number | undefined;
  let connections = 0;
  const server = createServer((client) => {
    connections += 1;
    if (target === undefined) return void client.destroy();
    const upstream = connect(target, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const { kill } = tracked(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, connections: () => connections, forwardTo: (p) => void (target = p), kill };
}

/** Reads each request's head and then drops the connection without an answer: a request that reached a backend whose connection was lost. */
export async function startDroppingPeer(): Promise<CountingPeer> {
  let hits = 0;
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      hits += 1;
      socket.destroy();
    });
  });
  const { kill } = tracked(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, close: kill };
}
