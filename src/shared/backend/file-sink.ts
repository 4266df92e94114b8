import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackendError } from '../errors.ts';
import type { BackendEndpoint } from './endpoints.ts';

const FILE_SYSCALLS = new Set(['open', 'write', 'close', 'rename', 'fsync', 'unlink']);

/** A failure of the local disk (full, read-only…), which no retry of the download fixes. */
export function isLocalFileError(error: unknown): boolean {
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return typeof syscall === 'string' && FILE_SYSCALLS.has(syscall);
}

/**
 * Streams bytes to `destPath`, never holding more than a chunk in memory.
 * The bytes go to a `.part` file renamed at the end, so `destPath` only ever
 * holds a complete file. More than `maxBytes` fails with 'bad_reply'.
 */
export async function writeStreamToFile(
  source: AsyncIterable<Uint8Array>,
  destPath: string,
  options: { maxBytes: number; endpoint: BackendEndpoint },
): Promise<number> {
  const partPath = `${destPath}.part`;
  let bytes = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        return done(
          new BackendError('bad_reply', `${options.endpoint}: the file is larger than ${options.maxBytes} bytes`, {
            endpoint: options.endpoint,
          }),
        );
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, cap, createWriteStream(partPath));
    await rename(partPath, destPath);
  } catch (error) {
    await rm(partPath, { force: true });
    throw error;
  }
  return bytes;
}
