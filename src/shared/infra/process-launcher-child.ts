/**
 * The launcher process (see process-launcher.ts): it starts the programs its
 * parent asks for and reports how they ended. It imports nothing but Node's
 * own modules, so it stays small, and a small process forks fast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LaunchReply, LaunchRequest } from './process-launcher-messages.ts';

process.title = 'i2v-launcher';

const STDERR_KEEP = 16 * 1024;
const running = new Map<number, ChildProcess>();

function reply(message: LaunchReply): void {
  process.send?.(message);
}

function launch({ id, command, args, timeoutMs, streamStdout }: Extract<LaunchRequest, { type: 'run' }>): void {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(id, child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let failed = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    if (streamStdout) reply({ type: 'stdout', id, chunk });
    else stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.on('error', (error) => {
    failed = true;
    clearTimeout(timer);
    running.delete(id);
    reply({ type: 'failed', id, message: error.message });
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    running.delete(id);
    if (!failed) reply({ type: 'exit', id, code, signal, stdout, stderr, timedOut });
  });
}

process.on('message', (message: LaunchRequest) => {
  if (message.type === 'run') launch(message);
  else running.get(message.id)?.kill('SIGKILL');
});

// the parent is gone (exited or killed): nobody waits for these programs any more
process.on('disconnect', () => {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
});
