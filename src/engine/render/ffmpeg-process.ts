import { spawn, type ChildProcess } from 'node:child_process';
import { ProcessError } from '../../shared/infra/process.ts';

export interface FfmpegProcess {
  child: ChildProcess;
  /** settles when ffmpeg has exited: rejects on a non-zero exit, or with the abort reason */
  exited: Promise<void>;
}

const STDERR_KEEP = 16 * 1024;

/**
 * Starts ffmpeg with binary pipes: stdout for the caller (unless
 * `onStdoutText` takes it as text) and `extraPipes` more from fd 3 on. Killed
 * when `signal` aborts; stderr keeps only its tail for the error message.
 */
export function startFfmpeg(args: string[], options: { signal: AbortSignal; extraPipes?: number; onStdoutText?: (chunk: string) => void }): FfmpegProcess {
  const pipes = Array<'pipe'>(options.extraPipes ?? 0).fill('pipe');
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe', ...pipes] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  if (options.onStdoutText) child.stdout!.setEncoding('utf8').on('data', options.onStdoutText);
  const kill = () => child.kill('SIGKILL');
  options.signal.addEventListener('abort', kill, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new ProcessError(`ffmpeg: ${error.message}`, null, stderr)));
    child.on('close', (code, signal) => {
      options.signal.removeEventListener('abort', kill);
      if (options.signal.aborted) return reject(options.signal.reason);
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}` : `exited with ${code}`;
      reject(new ProcessError(`ffmpeg ${why}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, code, stderr));
    });
  });
  if (options.signal.aborted) kill();
  return { child, exited };
}
