import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class ProcessError extends Error {
  override name = 'ProcessError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** No run goes without a time limit: a hostile file must not hold a worker forever. */
export const DEFAULT_RUN_TIMEOUT_MS = 120_000;

export interface RunOptions {
  /** the process is killed after this; DEFAULT_RUN_TIMEOUT_MS when not given */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** receives stdout as it arrives (ffmpeg's -progress output) */
  onStdout?: (chunk: string) => void;
}

const STDERR_KEEP = 16 * 1024;

/**
 * Runs a program without a shell. stderr keeps only its tail so a chatty
 * ffmpeg cannot grow memory; the process is killed on timeout or abort.
 */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (options.onStdout) options.onStdout(chunk);
      else stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error.name === 'AbortError' ? error : new ProcessError(`${command}: ${error.message}`, null, stderr));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, stderr });
      const why = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exited with ${code}`;
      reject(new ProcessError(`${command} ${why}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, code, stderr));
    });
  });
}
