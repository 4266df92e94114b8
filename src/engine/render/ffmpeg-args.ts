import type { Draft } from '../../shared/jobs/draft.ts';
import { pipeInput } from '../../shared/media/ffmpeg-input.ts';
import { audioGraph, audioInputArgs } from './audio.ts';
import { captionFilter } from './captions.ts';
import { AUDIO_ENCODER_ARGS, mp4OutputArgs, videoEncoderArgs } from './encoder.ts';
import { captionFontFile } from './font.ts';
import { planRender, type RenderPlan, type ResolveLocalPath } from './timeline.ts';
import { transitionGraph } from './transitions.ts';

export { DraftRenderError, renderGeometry, type RenderGeometry, type ResolveLocalPath } from './timeline.ts';

/** Throws DraftRenderError when the draft cannot be rendered (nothing to show, an unknown or unfit src). */
export function checkRenderable(draft: Draft, resolveLocalPath: ResolveLocalPath): void {
  planRender(draft, resolveLocalPath);
}

/** The frame stream's file descriptor in the encoder: the renderer writes raw yuv420p frames there. */
export const FRAME_STREAM_FD = 3;

export interface EncoderFiles {
  outPath: string;
  /** one text file per caption, in plan order (their text never enters the command) */
  captionFiles: string[];
  /** write the finished frames uncompressed (raw yuv420p, no audio) instead: what x264 would get, for measuring it alone */
  rawFrames?: boolean;
}

/** The filtergraph: the frame stream through transitions and captions to [vout], the audio to [aout]. */
export function renderGraph(plan: RenderPlan, captionFiles: string[]): string {
  const { geometry } = plan;
  const captions = plan.captions.map((caption, i) => captionFilter(caption, geometry, captionFiles[i]!, captionFontFile()));
  const video = [
    transitionGraph(plan.videos, geometry, '0:v', 'timeline'),
    `[timeline]${captions.length > 0 ? captions.join(',') : 'null'}[vout]`,
  ];
  const audio = audioGraph(plan.audio, 1, geometry.durationS);
  return [...video, ...(audio ? [audio] : [])].join(';');
}

/**
 * The encoder's arguments: it reads the moving pictures as raw frames on
 * FRAME_STREAM_FD, joins them with their transitions, draws the captions, mixes
 * the music, and writes an H.264 High / yuv420p / BT.709 MP4 (AAC 128k when
 * there is audio) of exactly the draft's frame count (the stream holds just
 * those frames; `-frames:v` would also cut the audio short). Pure: the same plan
 * always gives the same command.
 */
export function buildRenderCommand(plan: RenderPlan, files: EncoderFiles): string[] {
  const { width, height, fps } = plan.geometry;
  const hasAudio = plan.audio.length > 0 && !files.rawFrames;
  const output = files.rawFrames
    ? ['-an', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', `file:${files.outPath}`]
    : [...videoEncoderArgs(plan.quality), ...(hasAudio ? AUDIO_ENCODER_ARGS : ['-an']), ...mp4OutputArgs(files.outPath)];
  return [
    '-nostdin', '-y', '-hide_banner', '-v', 'error', '-progress', 'pipe:1', '-nostats',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-framerate', String(fps), ...pipeInput(FRAME_STREAM_FD),
    ...(hasAudio ? audioInputArgs(plan.audio) : []),
    '-filter_complex', renderGraph(hasAudio ? plan : { ...plan, audio: [] }, files.captionFiles),
    '-map', '[vout]',
    ...(hasAudio ? ['-map', '[aout]'] : []),
    '-r', String(fps),
    ...output,
  ];
}
