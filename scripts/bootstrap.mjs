#!/usr/bin/env node
// Makes a fresh clone runnable: Node version, npm dependencies, ffmpeg, and a
// Redis (or redis-server to start one); with --tests, Chromium for the browser tests. Plain Node, no dependencies, because
// it runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`[bootstrap] ${line}\n`);

function fail(message) {
  say(message);
  process.exit(1);
}

const NEEDED = [22, 19];
const isSupported = (version) => {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1]);
};

// This script runs on whatever Node the machine has (Node 20 on Debian 12).
// The npm scripts after it run on node_modules/.bin/node, the Node 24 that the
// `node` dev dependency brings from the npm registry, when the machine's is too old.
function checkNode() {
  if (isSupported(process.versions.node)) return;
  const bundled = path.join(root, 'node_modules', '.bin', 'node');
  const version = existsSync(bundled) ? spawnSync(bundled, ['--version'], { encoding: 'utf8' }).stdout?.trim() : '';
  if (version && isSupported(version)) return;
  fail(`Node ${process.versions.node} is too old for i2v (needs >= ${NEEDED.join('.')}), and node_modules/.bin/node (npm's "node" package) is ${version || 'missing'}. Run npm ci, or install Node 24.`);
}

function installNodeModules() {
  const modules = path.join(root, 'node_modules');
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(modules, '.package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm dependencies (npm ci)…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) fail('npm ci failed; see the output above.');
}

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

function redisAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

async function installSystemPackages({ forTests }) {
  const packages = [];
  if (!onPath('ffmpeg') || !onPath('ffprobe')) packages.push('ffmpeg', 'fonts-dejavu-core');
  // the browser tests drive Debian's Chromium (never a downloaded browser)
  if (forTests && !existsSync('/usr/bin/chromium')) packages.push('chromium');
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (!onPath('redis-server') && !(await redisAnswers(redisUrl))) packages.push('redis-server');
  if (packages.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`missing ${packages.join(', ')}. Install with:\n  sudo sh -c '${command}'`);
  if (!onPath('apt-get')) fail(`missing ${packages.join(', ')}, and apt-get is not available to install them.`);
  say(`installing ${packages.join(', ')} with apt-get…`);
  try {
    execFileSync('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    fail(`apt-get failed. Run it yourself:\n  ${command}`);
  }
}

installNodeModules();
checkNode();
await installSystemPackages({ forTests: process.argv.includes('--tests') });
