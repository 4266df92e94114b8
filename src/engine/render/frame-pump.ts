import type { Writable } from 'node:stream';
import { windowAt } from './motion.ts';
import { decodeStill, pictureFrames, preparedSize } from './frame-source.ts';
import type { FrameWarper, Size } from './frame-warper.ts';
import type { PlannedVideo, RenderPlan } from './timeline.ts';
import { WarperPool } from './warper-pool.ts';

/** Frames of one picture written but not yet taken by the encoder; a warped frame's memory is reused only after that. */
const IN_FLIGHT = 3;

function writeFrame(out: Writable, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => out.write(frame, (error) => (error ? reject(error) : resolve())));
}

/** One picture's frames in order: decoded (a photo once), moved sub-pixel by its motion, written. */
class PictureStream {
  private readonly source: AsyncGenerator<Buffer>;
  private readonly warper?: FrameWarper;
  private readonly pending: Promise<void>[] = [];
  private shown?: Buffer;
  private index = 0;

  constructor(
    private readonly video: PlannedVideo,
    output: Size,
    fps: number,
    signal: AbortSignal,
    still: Promise<Buffer> | undefined,
    private readonly warpers: WarperPool,
  ) {
    const size = preparedSize(video, output);
    this.source = pictureFrames(video, size, fps, signal, still);
    if (video.motion) this.warper = warpers.take(size, output);
  }

  async writeNext(out: Writable): Promise<void> {
    const next = await this.source.next();
    if (next.done) throw new Error(`picture ${this.video.path} ran out of frames`);
    const slot = this.index % IN_FLIGHT;
    await this.pending[slot];
    let frame = next.value;
    if (this.warper && this.video.motion) {
      if (frame !== this.shown) this.warper.sourceFrame.set(frame);
      this.shown = frame;
      const progress = this.video.frames > 1 ? this.index / (this.video.frames - 1) : 0;
      frame = this.warper.warp(windowAt(this.video.motion, progress), slot);
    }
    this.pending[slot] = writeFrame(out, frame);
    // a failed write is thrown by the next wait on this slot, or by finish
    this.pending[slot].catch(() => {});
    this.index++;
  }

  async finish(): Promise<void> {
    await Promise.all(this.pending);
    await this.source.return(undefined);
    if (this.warper) this.warpers.give(this.warper);
  }
}

/**
 * Writes the plan's frame stream to `out` as raw yuv420p: each picture's own
 * frames in turn, and where a transition joins two pictures, their frames
 * alternating (see transitions.ts). A photo is decoded once; the next photo
 * is decoded while the current one is written (not sooner: two decoders of
 * large photos at once would double the peak memory).
 */
export async function pumpFrames(plan: RenderPlan, out: Writable, signal: AbortSignal): Promise<void> {
  const { width, height, fps } = plan.geometry;
  const output = { width, height };
  // write errors arrive through the write callbacks
  out.on('error', () => {});
  const decodeAhead = (video: PlannedVideo | undefined) => {
    if (video?.kind !== 'image') return undefined;
    const still = decodeStill(video, preparedSize(video, output), fps, signal);
    still.catch(() => {}); // awaited when its turn comes
    return still;
  };
  const warpers = new WarperPool(IN_FLIGHT);
  const open = (video: PlannedVideo, still?: Promise<Buffer>) => new PictureStream(video, output, fps, signal, still, warpers);

  let current = open(plan.videos[0]!);
  let ahead: Promise<Buffer> | undefined;
  for (const [i, video] of plan.videos.entries()) {
    const next = plan.videos[i + 1];
    const overlap = next?.transitionIn?.frames ?? 0;
    const own = video.frames - (video.transitionIn?.frames ?? 0) - overlap;
    for (let k = 0; k < own; k++) {
      signal.throwIfAborted();
      await current.writeNext(out);
      if (k === 0) ahead = decodeAhead(next);
    }
    if (!next) break;
    const following = open(next, ahead);
    for (let k = 0; k < overlap; k++) {
      signal.throwIfAborted();
      await current.writeNext(out);
      await following.writeNext(out);
    }
    await current.finish();
    current = following;
  }
  await current.finish();
  await new Promise<void>((resolve) => out.end(resolve));
}
