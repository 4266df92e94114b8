import { LaunchError, processLauncher } from './process-launcher.ts';

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

/**
 * Runs a program without a shell, through this process's launcher (see
 * process-launcher.ts). stderr keeps only its tail so a chatty ffmpeg cannot
 * grow memory; the program is killed on timeout or abort.
 */
export async function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  let exit;
  try {
    exit = await processLauncher.run(command, args, { timeoutMs, signal: options.signal, onStdout: options.onStdout });
  } catch (error) {
    if (error instanceof LaunchError) throw new ProcessError(`${command}: ${error.message}`, null, '');
    throw error;
  }
  const { code, signal, stdout, stderr, timedOut } = exit;
  if (code === 0) return { stdout, stderr };
  const why = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exited with ${code}`;
  throw new ProcessError(`${command} ${why}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, code, stderr);
}
