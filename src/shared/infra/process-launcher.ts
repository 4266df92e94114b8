import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LaunchReply, LaunchRequest } from './process-launcher-messages.ts';

export type { ChildProcess } from 'node:child_process';

export type LaunchExit = Extract<LaunchReply, { type: 'exit' }>;

export interface LaunchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
}

interface Pending {
  resolve: (exit: LaunchExit) => void;
  reject: (error: Error) => void;
  onStdout?: (chunk: string) => void;
}

/** A program that could not be started, or a launcher that went away while it ran. */
export class LaunchError extends Error {
  override name = 'LaunchError';
}

/** How long past a run's own time limit the launcher may take to report it, before the run is given up. */
const REPLY_GRACE_MS = 10_000;

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * Forks the module `name` beside `base` (an import.meta.url) as a Node child
 * process: the sources run through tsx, the build as plain JavaScript. The
 * launcher below and the all-in-one supervisor start their children this way.
 */
export function forkModule(base: string, name: string, options: Omit<ForkOptions, 'execArgv'>): ChildProcess {
  const fromSources = base.endsWith('.ts');
  const path = fileURLToPath(new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, base));
  const execArgv = fromSources ? ['--import', pathToFileURL(createRequire(base).resolve('tsx')).href] : [];
  return fork(path, [], { ...options, execArgv });
}

/**
 * Starts programs (ffmpeg, ffprobe) from a small helper process instead of
 * this one. Linux copies the page tables of the process that forks: from a
 * worker of a few hundred MB each spawn cost 5–10 ms of its CPU and stalled
 * its event loop that long, from the launcher well under 1 ms. The launcher
 * is forked on first use, does not keep this process alive when idle, is
 * forked again if it dies, and kills its programs when this process goes away.
 */
export class ProcessLauncher {
  private child?: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  run(command: string, args: readonly string[], options: LaunchOptions): Promise<LaunchExit> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    return new Promise<LaunchExit>((resolve, reject) => {
      const guard = setTimeout(() => {
        this.send({ type: 'kill', id });
        settle(() => reject(new LaunchError(`${command}: the process launcher did not report within ${options.timeoutMs + REPLY_GRACE_MS} ms`)));
      }, options.timeoutMs + REPLY_GRACE_MS);
      const onAbort = () => {
        this.send({ type: 'kill', id });
        settle(() => reject(abortError(signal!)));
      };
      const settle = (finish: () => void) => {
        clearTimeout(guard);
        signal?.removeEventListener('abort', onAbort);
        if (!this.pending.delete(id)) return;
        this.holdOpen();
        finish();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (exit) => settle(() => resolve(exit)),
        reject: (error) => settle(() => reject(error)),
        ...(options.onStdout && { onStdout: options.onStdout }),
      });
      this.send({ type: 'run', id, command, args, timeoutMs: options.timeoutMs, streamStdout: options.onStdout !== undefined });
    });
  }

  /** Stops the launcher (and whatever it still runs). */
  close(): void {
    this.child?.kill('SIGKILL');
  }

  private send(message: LaunchRequest): void {
    if (message.type === 'kill' && !this.child) return;
    const child = this.child ?? this.start();
    this.holdOpen();
    child.send(message);
  }

  /** The launcher keeps this process alive only while something runs. */
  private holdOpen(): void {
    const busy = this.pending.size > 0;
    for (const handle of [this.child, this.child?.channel]) {
      if (busy) handle?.ref();
      else handle?.unref();
    }
  }

  private start(): ChildProcess {
    const child = forkModule(import.meta.url, 'process-launcher-child', { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (message: LaunchReply) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      if (message.type === 'stdout') waiting.onStdout?.(message.chunk);
      else if (message.type === 'exit') waiting.resolve(message);
      else waiting.reject(new LaunchError(message.message));
    });
    // a failed send (the launcher just died) is reported by 'exit' below
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const waiting of [...this.pending.values()]) {
        waiting.reject(new LaunchError(`the process launcher exited (${signal ?? code}) while a program ran`));
      }
    });
    return child;
  }
}

/** The launcher of this process, shared by every runProcess call. */
export const processLauncher = new ProcessLauncher();
