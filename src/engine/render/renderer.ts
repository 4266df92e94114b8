import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Draft } from '../../shared/jobs/draft.ts';
import { buildRenderCommand, FRAME_STREAM_FD } from './ffmpeg-args.ts';
import { badgeLayout, badgeShapePixels, badgeText } from './badge.ts';
import { captionFileText, captionLayout } from './captions.ts';
import { startFfmpeg } from './ffmpeg-process.ts';
import { pumpFrames } from './frame-pump.ts';
import { planRender, type RenderPlan, type ResolveLocalPath } from './timeline.ts';

export interface RenderDraftOptions {
  resolveLocalPath: ResolveLocalPath;
  outPath: string;
  /** fraction 0–1 of the output written, from ffmpeg's own `-progress` clock */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** write the finished frames as raw yuv420p, unencoded (see EncoderFiles.rawFrames) */
  rawFrames?: boolean;
}

/** Turns ffmpeg's `-progress` key=value lines (which may arrive split) into fractions of the output duration. */
export function progressReader(durationS: number, onProgress: (fraction: number) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      // both keys are microseconds (out_time_ms is misnamed in ffmpeg); older builds print only out_time_ms
      const match = /^out_time_(?:us|ms)=(\d+)\s*$/.exec(line);
      if (match) onProgress(Math.min(1, Number(match[1]) / 1e6 / durationS));
      else if (line.trim() === 'progress=end') onProgress(1);
    }
  };
}

/** Each caption's text goes to a file of its own, so no text ever reaches the filtergraph. */
async function writeCaptionFiles(plan: RenderPlan, dir: string): Promise<string[]> {
  return Promise.all(
    plan.captions.map(async (caption, i) => {
      const file = path.join(dir, `caption-${i}.txt`);
      await writeFile(file, captionFileText(captionLayout(caption, plan.geometry)), 'utf8');
      return file;
    }),
  );
}

/** Each badge's shape as raw RGBA and its text, in files of their own. */
async function writeBadgeFiles(plan: RenderPlan, dir: string): Promise<{ shape: string; text: string }[]> {
  return Promise.all(
    plan.badges.map(async (badge, i) => {
      const files = { shape: path.join(dir, `badge-${i}.rgba`), text: path.join(dir, `badge-${i}.txt`) };
      await writeFile(files.shape, badgeShapePixels(badge, badgeLayout(badge, plan.geometry)));
      await writeFile(files.text, badgeText(badge), 'utf8');
      return files;
    }),
  );
}

/**
 * Renders a draft to `outPath` (written whole or not at all): this process
 * moves the pictures and streams raw frames into one encoding ffmpeg, which
 * adds transitions, the logo, badges, captions and music. Aborting kills every ffmpeg.
 */
export async function renderDraft(draft: Draft, options: RenderDraftOptions): Promise<void> {
  const plan = planRender(draft, options.resolveLocalPath);
  const { durationS } = plan.geometry;
  const partPath = `${options.outPath}.part`;
  const workDir = await mkdtemp(path.join(tmpdir(), 'i2v-render-'));
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  if (options.signal?.aborted) abort();
  // generous: a hung ffmpeg must not hold a render slot forever
  const timeoutMs = Math.max(10 * 60_000, durationS * 60_000);
  const timer = setTimeout(() => controller.abort(new Error(`render timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const [captionFiles, badgeFiles] = await Promise.all([writeCaptionFiles(plan, workDir), writeBadgeFiles(plan, workDir)]);
    const encoder = startFfmpeg(buildRenderCommand(plan, { outPath: partPath, captionFiles, badgeFiles, rawFrames: options.rawFrames }), {
      signal: controller.signal,
      extraPipes: 1,
      onStdoutText: progressReader(durationS, options.onProgress ?? (() => {})),
    });
    const frames = encoder.child.stdio[FRAME_STREAM_FD] as Writable;
    const pumping = pumpFrames(plan, frames, controller.signal).catch((error: unknown) => {
      // the encoder would otherwise wait for frames that never come
      controller.abort(error);
      throw error;
    });
    const [encoded, pumped] = await Promise.allSettled([encoder.exited, pumping]);
    if (encoded.status === 'rejected') throw encoded.reason;
    // the encoder has all its frames once it exits cleanly; a late write error then does not matter
    void pumped;
    await rename(partPath, options.outPath);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
    await rm(partPath, { force: true });
    await rm(workDir, { recursive: true, force: true });
  }
}
