import type { Writable } from 'node:stream';
import { aimedVideo } from './aim.ts';
import { windowAt, type MotionPath } from './motion.ts';
import { decodeStill, pictureFrames, preparedSize } from './frame-source.ts';
import type { FrameWarper, Size } from './frame-warper.ts';
import type { PlannedVideo, RenderPlan } from './timeline.ts';
import { WarperPool } from './warper-pool.ts';

/** Frames of one picture written but not yet taken by the encoder; a warped frame's memory is reused only after that. */
const IN_FLIGHT = 3;

function writeFrame(out: Writable, frame: Buffer): Promise<void> {
  return new Promise((resolve, reject) => out.write(frame, (error) => (error ? reject(error) : resolve())));
}

/** A picture on its way: its focus being resolved (aim.ts) and, for a photo decoded ahead, its one frame. */
interface Prepared {
  aimed: Promise<PlannedVideo>;
  still?: Promise<Buffer>;
}

/** One picture's frames in order: aimed at its focus, decoded (a photo once), moved sub-pixel by its motion, written. */
class PictureStream {
  private source?: AsyncGenerator<Buffer>;
  private motion?: MotionPath;
  private readonly size: Size;
  private readonly warper?: FrameWarper;
  private readonly pending: Promise<void>[] = [];
  private shown?: Buffer;
  private index = 0;

  constructor(
    private readonly video: PlannedVideo,
    output: Size,
    private readonly fps: number,
    private readonly signal: AbortSignal,
    private readonly prepared: Prepared,
    private readonly warpers: WarperPool,
  ) {
    // aiming moves the windows, never resizes them: the sizes are known now
    this.size = preparedSize(video, output);
    if (video.motion) this.warper = warpers.take(this.size, output);
  }

  private async frames(): Promise<AsyncGenerator<Buffer>> {
    if (!this.source) {
      const video = await this.prepared.aimed;
      this.motion = video.motion;
      this.source = pictureFrames(video, this.size, this.fps, this.signal, this.prepared.still);
    }
    return this.source;
  }

  async writeNext(out: Writable): Promise<void> {
    const next = await (await this.frames()).next();
    if (next.done) throw new Error(`picture ${this.video.path} ran out of frames`);
    const slot = this.index % IN_FLIGHT;
    await this.pending[slot];
    let frame = next.value;
    if (this.warper && this.motion) {
      if (frame !== this.shown) this.warper.sourceFrame.set(frame);
      this.shown = frame;
      const progress = this.video.frames > 1 ? this.index / (this.video.frames - 1) : 0;
      frame = this.warper.warp(windowAt(this.motion, progress), slot);
    }
    this.pending[slot] = writeFrame(out, frame);
    // a failed write is thrown by the next wait on this slot, or by finish
    this.pending[slot].catch(() => {});
    this.index++;
  }

  async finish(): Promise<void> {
    await Promise.all(this.pending);
    await this.source?.return(undefined);
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
  const aim = (video: PlannedVideo) => aimedVideo(video, output, signal);
  const prepareAhead = (video: PlannedVideo): Prepared => {
    const aimed = aim(video);
    const still = video.kind === 'image' ? aimed.then((aimedOne) => decodeStill(aimedOne, preparedSize(video, output), fps, signal)) : undefined;
    // awaited when its turn comes
    aimed.catch(() => {});
    still?.catch(() => {});
    return { aimed, still };
  };
  const warpers = new WarperPool(IN_FLIGHT);
  const open = (video: PlannedVideo, prepared?: Prepared) => new PictureStream(video, output, fps, signal, prepared ?? { aimed: aim(video) }, warpers);

  let current = open(plan.videos[0]!);
  let ahead: Prepared | undefined;
  for (const [i, video] of plan.videos.entries()) {
    const next = plan.videos[i + 1];
    const overlap = next?.transitionIn?.frames ?? 0;
    const own = video.frames - (video.transitionIn?.frames ?? 0) - overlap;
    for (let k = 0; k < own; k++) {
      signal.throwIfAborted();
      await current.writeNext(out);
      if (k === 0 && next) ahead = prepareAhead(next);
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
