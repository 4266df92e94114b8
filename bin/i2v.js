#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` has produced dist/, else the
// TypeScript sources through tsx. On a Node older than 22.19 (undici 8's
// floor) it runs itself again on the Node of npm's `node` package, when
// node_modules has it, so `node bin/i2v.js` works on a Debian 12 machine too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const bundledNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));

if ((major < 22 || (major === 22 && minor < 19)) && existsSync(bundledNode)) {
  const child = spawn(bundledNode, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
} else {
  const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  if (existsSync(compiled)) {
    await import(pathToFileURL(compiled).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../src/cli/main.ts');
  }
}
