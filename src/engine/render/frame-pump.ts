import type { Writable } from 'node:stream';
import { windowAt } from '../motion.ts';
import { decodeStill, pictureFrames, preparedSize } from './frame-source.ts';
import { FrameWarper } from './frame-warper.ts';
import type { PlannedVideo, RenderPlan } from './timeline.ts';

/** Frames written but not yet taken by the encoder; a warped frame's memory is reused only after that. */
const IN_FLIGHT = 3;

/** Writes frames with at most IN_FLIGHT of them unflushed, each in its own slot. */
class FrameWriter {
  private readonly pending: Promise<void>[] = [];
  private next = 0;

  constructor(private readonly out: Writable) {
    // write errors arrive through the write callbacks
    out.on('error', () => {});
  }

  /** A slot whose previous frame has been flushed. */
  async reserve(): Promise<number> {
    const slot = this.next;
    this.next = (this.next + 1) % IN_FLIGHT;
    await this.pending[slot];
    return slot;
  }

  write(slot: number, frame: Buffer): void {
    this.pending[slot] = new Promise((resolve, reject) => this.out.write(frame, (error) => (error ? reject(error) : resolve())));
    // a failed write is awaited (and thrown) by the next reserve or by flush
    this.pending[slot].catch(() => {});
  }

  async end(): Promise<void> {
    await Promise.all(this.pending);
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

/**
 * Writes the plan's frame stream (every picture's frames in turn, moved
 * sub-pixel by its motion) to `out` as raw yuv420p. Photos are decoded once;
 * the next photo is decoded while the current one is being written (not
 * sooner: two decoders of large photos at once would double the peak memory).
 */
export async function pumpFrames(plan: RenderPlan, out: Writable, signal: AbortSignal): Promise<void> {
  const { width, height, fps } = plan.geometry;
  const output = { width, height };
  const writer = new FrameWriter(out);
  const decodeAhead = (video: PlannedVideo | undefined) => {
    if (video?.kind !== 'image') return undefined;
    const still = decodeStill(video, preparedSize(video, output), fps, signal);
    still.catch(() => {}); // awaited when its turn comes
    return still;
  };
  let still = decodeAhead(plan.videos[0]);
  for (const [i, video] of plan.videos.entries()) {
    const size = preparedSize(video, output);
    const current = still;
    const warper = video.motion ? new FrameWarper(size, output, IN_FLIGHT) : undefined;
    let shown: Buffer | undefined;
    let index = 0;
    for await (const source of pictureFrames(video, size, fps, signal, current)) {
      signal.throwIfAborted();
      if (index === 0) still = decodeAhead(plan.videos[i + 1]);
      const slot = await writer.reserve();
      if (warper && video.motion) {
        if (source !== shown) warper.sourceFrame.set(source);
        shown = source;
        const progress = video.frames > 1 ? index / (video.frames - 1) : 0;
        writer.write(slot, warper.warp(windowAt(video.motion, progress), slot));
      } else {
        writer.write(slot, source);
      }
      index++;
    }
  }
  await writer.end();
}
