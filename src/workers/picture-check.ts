import { open } from 'node:fs/promises';
import { imageSize } from 'image-size';
import { JobError } from '../shared/errors/job-error.ts';
import { localFileInput } from '../shared/media/ffmpeg-input.ts';
import { formatOfName, isStill } from '../shared/media/media-formats.ts';
import { ProcessError, runProcess } from '../shared/infra/process.ts';

/** Enough of a file's start to hold its dimensions, however much metadata comes first. */
const HEADER_BYTES = 4 * 1024 * 1024;
const DECODE_TIMEOUT_MS = 60_000;

export interface PictureCheckOptions {
  maxPixels: number;
  signal?: AbortSignal;
  /** the decode's time limit */
  timeoutMs?: number;
}

async function headerOf(path: string): Promise<Buffer> {
  const file = await open(path);
  try {
    // no bigger than the file: a zero-filled 4 MB buffer per picture was most of a job's garbage
    const buffer = Buffer.allocUnsafe(Math.min((await file.stat()).size, HEADER_BYTES));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

const damaged = (name: string, why: string) => new JobError('invalid_media', `"${name}" is damaged or truncated (${why}); send the complete file.`);

/** The decoder's complaint, without its `[mjpeg @ 0x…]` prefixes or the file's path. */
function complaint(stderr: string, path: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, '').replaceAll(`file:${path}`, 'the file').replaceAll(path, 'the file').trim())
    .filter(Boolean);
  return [...new Set(lines)].slice(0, 2).join('; ').slice(0, 200) || 'the decoder refused it';
}

/**
 * Checks a picture (or a clip's first frame) before anything renders it:
 * a still's declared size against `maxPixels`, from its header alone, so a
 * decompression bomb is never decoded (`image_too_large`); then one frame
 * decoded under a time limit, any decoder error, even one it recovers from
 * (a truncated JPEG), failing it (`invalid_media`). `name` is how the job's
 * error names the file.
 */
export async function checkPicture(path: string, ext: string, name: string, options: PictureCheckOptions): Promise<void> {
  // a still's size is read by image-size from its header alone
  if (isStill(formatOfName(`x.${ext}`))) {
    let size: { width?: number; height?: number };
    try {
      size = imageSize(await headerOf(path));
    } catch {
      throw damaged(name, 'its header cannot be read');
    }
    const { width = 0, height = 0 } = size;
    if (width * height === 0) throw damaged(name, 'it declares no size');
    if (width * height > options.maxPixels) {
      throw new JobError(
        'image_too_large',
        `"${name}" is ${width}×${height} (${Math.round((width * height) / 1e6)} MP); the limit is ${Math.round(options.maxPixels / 1e6)} MP (MAX_IMAGE_PIXELS).`,
      );
    }
  }
  const timeoutMs = options.timeoutMs ?? DECODE_TIMEOUT_MS;
  let stderr: string;
  try {
    ({ stderr } = await runProcess(
      'ffmpeg',
      ['-nostdin', '-hide_banner', '-v', 'error', ...localFileInput(path), '-map', '0:v:0', '-frames:v', '1', '-f', 'null', '-'],
      { timeoutMs, signal: options.signal },
    ));
  } catch (error) {
    // an abort, or ffmpeg missing: not the file's fault
    if (!(error instanceof ProcessError) || (error.exitCode === null && / ENOENT|EACCES/.test(error.message))) throw error;
    if (error.message.includes('timed out after')) throw damaged(name, `it could not be decoded within ${timeoutMs / 1000} s`);
    throw damaged(name, complaint(error.stderr, path));
  }
  if (stderr.trim()) throw damaged(name, complaint(stderr, path));
}
