import type { Readable } from 'node:stream';
import { sourceScale } from './motion.ts';
import { fitFilter } from './fit.ts';
import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import { startFfmpeg } from './ffmpeg-process.ts';
import { yuv420Bytes, type Size } from './frame-warper.ts';
import { DraftRenderError, type PlannedVideo } from './timeline.ts';

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The size a picture is decoded to: the output's, enlarged for its motion (see sourceScale). */
export function preparedSize(video: PlannedVideo, output: Size): Size {
  const scale = sourceScale(video.motion);
  return scale === 1 ? output : { width: even(output.width * scale), height: even(output.height * scale) };
}

/** Decoder arguments: a photo's first (only) frame, or a video's frames from `inS` at the output rate, fitted to `size`. */
export function decoderArgs(video: PlannedVideo, size: Size, fps: number): string[] {
  const fit = fitFilter(video.fit, size, video.background, video.crop);
  const input = video.kind === 'image' ? [] : ['-ss', String(video.inS)];
  return [
    '-nostdin', '-hide_banner', '-v', 'error', ...input, ...localFileInput(video.path), '-an', '-sn',
    // slice threads in the fit's scalers cost more CPU than they save here: the encoder has the cores
    '-filter_threads', '1',
    '-vf', video.kind === 'image' ? fit : `fps=${fps},${fit}`,
    '-frames:v', String(video.kind === 'image' ? 1 : video.frames),
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1',
  ];
}

/** The stream cut into frames of `bytes` bytes (a last partial frame is dropped). */
async function* framesOf(stream: Readable, bytes: number): AsyncGenerator<Buffer> {
  let frame = Buffer.allocUnsafe(bytes);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(bytes - filled, chunk.length - at);
      chunk.copy(frame, filled, at, at + n);
      filled += n;
      at += n;
      if (filled === bytes) {
        yield frame;
        frame = Buffer.allocUnsafe(bytes);
        filled = 0;
      }
    }
  }
}

/** Raw yuv420p frames of `size` decoded by ffmpeg; stopping early stops the decoder. */
export async function* decodedFrames(args: string[], size: Size, signal: AbortSignal): AsyncGenerator<Buffer> {
  const decoder = startFfmpeg(args, { signal });
  let finished = false;
  try {
    // leaving this loop early closes stdout, which ffmpeg's exit report waits for
    yield* framesOf(decoder.child.stdout!, yuv420Bytes(size));
    await decoder.exited;
    finished = true;
  } finally {
    if (!finished) {
      decoder.child.kill('SIGKILL');
      await decoder.exited.catch(() => {});
    }
  }
}

/** A photo decoded once, fitted to `size`. */
export async function decodeStill(video: PlannedVideo, size: Size, fps: number, signal: AbortSignal): Promise<Buffer> {
  for await (const frame of decodedFrames(decoderArgs(video, size, fps), size, signal)) return frame;
  throw new DraftRenderError(`no picture could be decoded from ${video.path}`);
}

/**
 * The `video.frames` source frames of a picture: a photo's one frame over and
 * over, or a video's frames, its last one held if the video ends early.
 */
export async function* pictureFrames(video: PlannedVideo, size: Size, fps: number, signal: AbortSignal, still?: Promise<Buffer>): AsyncGenerator<Buffer> {
  if (video.kind === 'image') {
    const frame = await (still ?? decodeStill(video, size, fps, signal));
    for (let i = 0; i < video.frames; i++) yield frame;
    return;
  }
  let last: Buffer | undefined;
  let count = 0;
  for await (const frame of decodedFrames(decoderArgs(video, size, fps), size, signal)) {
    last = frame;
    yield frame;
    if (++count === video.frames) return;
  }
  if (!last) throw new DraftRenderError(`no frames could be decoded from ${video.path} after ${video.inS} s`);
  for (; count < video.frames; count++) yield last;
}
