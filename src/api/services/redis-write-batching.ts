import type { Socket } from 'node:net';
import type { Redis } from '../../shared/infra/redis.ts';

const batched = new WeakSet<Socket>();

/**
 * Holds a socket's writes from the first one in an event-loop turn until the
 * turn's I/O callbacks have run (setImmediate), then sends them together: one
 * write syscall for every command issued in that turn, however many requests
 * issued them. Under load the API handles many requests per turn (and their
 * Redis replies arrive together, so their next commands are issued together
 * too), and a write to Redis is one of the dearest things a request does on a
 * small VM. A command waits at most until the end of the turn it was issued in.
 */
function batchWrites(socket: Socket): void {
  if (batched.has(socket)) return;
  batched.add(socket);
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/**
 * Batches the writes of an ioredis connection, on its every socket (a
 * reconnect makes a new one). Unlike ioredis's auto-pipelining, commands stay
 * plain commands (no pipeline object per turn, which copies every script
 * BullMQ defined on the connection). Not for blocking or subscriber
 * connections, which issue one command at a time anyway.
 */
export function batchRedisWrites(redis: Redis): void {
  const install = () => {
    const socket = (redis as unknown as { stream?: Socket }).stream;
    if (socket) batchWrites(socket);
  };
  redis.on('connect', install);
  install();
}
