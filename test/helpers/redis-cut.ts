import net from 'node:net';

export interface RedisCut {
  /** redis://… of the proxy: give it to the process whose writes are to be cut */
  url: string;
  /** resolves when a command with `holdFrom` was held back: the process is now stuck just before it */
  held: Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Redis that passes everything through until a
 * command containing `after` has gone to Redis and then one containing
 * `holdFrom` is sent: that one and everything after it, on every connection,
 * never reach Redis. Killing the process then is a crash at exactly that
 * point (e.g. after the job record was written, before its queue entry).
 * Replies still flow back, so the process is never blocked on what passed.
 */
export async function cutRedisAt(redisUrl: string, { after, holdFrom }: { after: string; holdFrom: string }): Promise<RedisCut> {
  const target = new URL(redisUrl);
  const sockets = new Set<net.Socket>();
  let armed = false;
  let holding = false;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    let tail = '';
    client.on('data', (chunk) => {
      // a marker may straddle two chunks: look at the end of the previous one too
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-Math.max(after.length, holdFrom.length));
      if (!holding && armed && text.includes(holdFrom)) {
        holding = true;
        release();
      }
      if (holding) return;
      upstream.write(chunk);
      if (text.includes(after)) armed = true;
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    held,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
