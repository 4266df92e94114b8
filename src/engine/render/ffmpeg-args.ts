import type { Draft } from '../../shared/jobs/draft.ts';
import { pipeInput } from '../../shared/media/ffmpeg-input.ts';
import { audioGraph, audioInputArgs } from './audio.ts';
import { badgeFilters, badgeInputArgs, badgeLayout } from './badge.ts';
import { captionFilter, captionLayout } from './captions.ts';
import { audioEncoderArgs, mp4OutputArgs, videoEncoderArgs } from './encoder.ts';
import { logoFilters, logoInputArgs } from './logo.ts';
import { planRender, type RenderPlan, type ResolveLocalPath } from './timeline.ts';
import { transitionGraph } from './transitions.ts';

export { DraftRenderError, renderGeometry, type RenderGeometry, type ResolveLocalPath } from './timeline.ts';

/** Throws DraftRenderError when the draft cannot be rendered (nothing to show, an unknown or unfit src). */
export function checkRenderable(draft: Draft, resolveLocalPath: ResolveLocalPath): void {
  planRender(draft, resolveLocalPath);
}

/** The frame stream's file descriptor in the encoder: the renderer writes raw yuv420p frames there. */
export const FRAME_STREAM_FD = 3;

/** The files the overlays are drawn from, written before the encoder starts. */
export interface OverlayFiles {
  /** one text file per caption, in plan order (their text never enters the command) */
  captionFiles: string[];
  /** per badge, in plan order: its shape as raw RGBA (badgeShapePixels) and its text */
  badgeFiles?: { shape: string; text: string }[];
}

export interface EncoderFiles extends OverlayFiles {
  outPath: string;
  /** write the finished frames uncompressed (raw yuv420p, no audio) instead: what x264 would get, for measuring it alone */
  rawFrames?: boolean;
}

function badgeFilesOf(files: OverlayFiles, count: number): NonNullable<OverlayFiles['badgeFiles']> {
  const badgeFiles = files.badgeFiles ?? [];
  if (badgeFiles.length !== count) throw new Error(`${count} badge(s) to draw and ${badgeFiles.length} badge file(s)`);
  return badgeFiles;
}

/**
 * The filtergraph: the frame stream through transitions, the logos, the
 * badges and the captions to [vout], the audio to [aout]. The logos' and
 * badges' inputs follow the audio's.
 */
export function renderGraph(plan: RenderPlan, files: OverlayFiles): string {
  const { geometry } = plan;
  const logoInput = 1 + plan.audio.length;
  const badgeInput = logoInput + plan.logos.length;
  const badgeFiles = badgeFilesOf(files, plan.badges.length);
  const overlays: ((from: string, to: string) => string)[] = [
    ...plan.logos.map((logo, i) => (from: string, to: string) => logoFilters(logo, i, logoInput + i, geometry, from, to)),
    ...plan.badges.map((badge, i) => (from: string, to: string) => badgeFilters(badge, badgeLayout(badge, geometry), badgeInput + i, badgeFiles[i]!.text, from, to)),
  ];
  const label = (i: number) => (i === 0 ? 'timeline' : `overlaid${i}`);
  const captions = plan.captions.map((caption, i) => captionFilter(caption, geometry, files.captionFiles[i]!, captionLayout(caption, geometry)));
  const video = [
    transitionGraph(plan.videos, geometry, '0:v', 'timeline'),
    ...overlays.map((overlay, i) => overlay(label(i), label(i + 1))),
    `[${label(overlays.length)}]${captions.length > 0 ? captions.join(',') : 'null'}[vout]`,
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
    : [...videoEncoderArgs(plan.quality, plan.encoding, { fps, durationS: plan.geometry.durationS }), ...(hasAudio ? audioEncoderArgs(plan.encoding) : ['-an']), ...mp4OutputArgs(files.outPath)];
  return [
    '-nostdin', '-y', '-hide_banner', '-v', 'error', '-progress', 'pipe:1', '-nostats',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-framerate', String(fps), ...pipeInput(FRAME_STREAM_FD),
    ...(hasAudio ? audioInputArgs(plan.audio) : []),
    ...logoInputArgs(plan.logos),
    ...badgeInputArgs(plan.badges.map((badge) => badgeLayout(badge, plan.geometry)), badgeFilesOf(files, plan.badges.length).map((file) => file.shape)),
    '-filter_complex', renderGraph(hasAudio ? plan : { ...plan, audio: [] }, files),
    '-map', '[vout]',
    ...(hasAudio ? ['-map', '[aout]'] : []),
    '-r', String(fps),
    ...output,
  ];
}
