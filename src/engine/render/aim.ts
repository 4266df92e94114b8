import type { FocusPoint } from '../../shared/jobs/draft.ts';
import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { ANALYSIS_SIDE, findSubject, focusFraming } from './focus.ts';
import { decodedFrames } from './frame-source.ts';
import type { Size } from './frame-warper.ts';
import { motionPath } from './motion.ts';
import { DraftRenderError, type PlannedVideo } from './timeline.ts';

/** Decoder arguments for the small copy `auto` looks for the subject in: the photo, or the clip's frame at `inS`. */
export function analysisArgs(video: PlannedVideo): string[] {
  const input = video.kind === 'image' ? [] : ['-ss', String(video.inS)];
  return [
    '-nostdin', '-hide_banner', '-v', 'error', ...input, ...localFileInput(video.path), '-an', '-sn',
    '-vf', `scale=${ANALYSIS_SIDE}:${ANALYSIS_SIDE}:flags=area`,
    '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1',
  ];
}

/** The point `auto` finds: the subject of the picture's small copy. */
async function autoFocus(video: PlannedVideo, signal: AbortSignal): Promise<FocusPoint> {
  const side = { width: ANALYSIS_SIDE, height: ANALYSIS_SIDE };
  for await (const frame of decodedFrames(analysisArgs(video), side, signal)) return findSubject(frame);
  throw new DraftRenderError(`no picture could be decoded from ${video.path}`);
}

async function pictureAspect(video: PlannedVideo, signal: AbortSignal): Promise<number> {
  const info = await probeMedia(video.path, { signal });
  if (!info.video?.width || !info.video.height) throw new DraftRenderError(`no picture could be decoded from ${video.path}`);
  return info.video.width / info.video.height;
}

/**
 * A picture with its focus resolved (found in the picture for `auto`): its
 * `cover` crop aligned to keep the focus in frame, its motion aimed at it.
 * A picture without a focus is returned as it is.
 */
export async function aimedVideo(video: PlannedVideo, output: Size, signal: AbortSignal): Promise<PlannedVideo> {
  if (!video.focus) return video;
  const [focus, aspect] = await Promise.all([video.focus === 'auto' ? autoFocus(video, signal) : video.focus, pictureAspect(video, signal)]);
  const { point, crop } = focusFraming(video.fit, focus, aspect, output.width / output.height);
  return { ...video, ...(crop && { crop }), motion: motionPath(video.movement.motion, video.movement.intensity, point) };
}
