#!/usr/bin/env node
// The image's HEALTHCHECK. One image runs every process, so this reads which
// one from its argument, else from the container's command (PID 1:
// `tini -- node bin/i2v.js <role>`),
// and asks that process: the API its /healthz, the engine for any HTTP
// answer, a worker its metrics server (METRICS_PORT, with ADMIN_KEY) or else
// whether Redis, which it cannot work without, answers. Plain Node, no
// dependencies. Exit 0: healthy; 1: not, with the reason on stderr.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const ROLES = ['serve', 'api', 'worker', 'engine'];
const TIMEOUT_MS = 4000;
const env = process.env;

function role() {
  if (ROLES.includes(process.argv[2])) return process.argv[2]; // named explicitly
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    return args.find((arg) => ROLES.includes(arg)) ?? 'serve';
  } catch {
    return 'serve';
  }
}

async function httpAnswers(url, { headers = {}, needOk = true } = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  await response.body?.cancel();
  if (needOk && !response.ok) throw new Error(`${url} answered ${response.status}`);
}

function redisAnswers(redisUrl) {
  const { protocol, hostname, port } = new URL(redisUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(TIMEOUT_MS, () => done(new Error(`Redis at ${hostname}:${port || 6379} did not answer`)));
    socket.on('error', done);
    socket.on('connect', () => (protocol === 'rediss:' ? done() : socket.write('PING\r\n')));
    socket.on('data', (data) => {
      const reply = data.toString();
      // -NOAUTH: a Redis with a password answered, which is all this asks
      done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH') ? undefined : new Error(`Redis answered ${reply.trim()}`));
    });
  });
}

const loopback = (port) => `http://127.0.0.1:${port}`;

const checks = {
  serve: () => httpAnswers(`${loopback(env.PORT || 3000)}/healthz`),
  api: () => httpAnswers(`${loopback(env.PORT || 3000)}/healthz`),
  engine: () => httpAnswers(loopback(env.ENGINE_PORT || 8790), { needOk: false }),
  worker: () =>
    env.METRICS_PORT && env.ADMIN_KEY
      ? httpAnswers(`${loopback(env.METRICS_PORT)}/metrics`, { headers: { authorization: `Bearer ${env.ADMIN_KEY}` } })
      : redisAnswers(env.REDIS_URL || 'redis://127.0.0.1:6379'),
};

const which = role();
try {
  await checks[which]();
  process.exit(0);
} catch (error) {
  const cause = error.cause ? ` (${error.cause.code ?? error.cause.message})` : '';
  process.stderr.write(`${which} unhealthy: ${error.message}${cause}\n`);
  process.exit(1);
}
