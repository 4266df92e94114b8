import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * HTTP peers nobody here wrote the client side for: a server that ends the
 * socket right after the body, and Python's http.server.
 */
export interface Peer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves each file under `dir` with `Connection: close` and ends the socket in
 * the same turn as the last body byte (headers and body in one write, then FIN),
 * as many small servers and embedded devices do.
 */
export async function startClosingServer(dir: string): Promise<Peer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', async (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const target = decodeURIComponent(head.split(' ')[1] ?? '/').replace(/^\/+/, '');
      head = '';
      const body = await readFile(path.join(dir, path.basename(target))).catch(() => undefined);
      if (!body) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      const type = target.endsWith('.jpg') ? 'image/jpeg' : 'application/octet-stream';
      const headers = `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      socket.end(Buffer.concat([Buffer.from(headers, 'latin1'), body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `python3 -m http.server` serving `dir` on a free loopback port (HTTP/1.0: it closes after each body). */
export async function startPythonFileServer(dir: string): Promise<Peer> {
  const child: ChildProcess = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`python3 -m http.server exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  child.stdout!.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
