import {
  TRACK_TYPE, type AudioSegment, type BadgeSegment, type Draft, type Fit, type Focus, type FocusPoint, type FontFamily, type FontWeight, type LogoSegment, type TextSegment,
  type Motion, type Transition, type VideoSegment,
} from '../../shared/jobs/draft.ts';
import { backendKindOf } from '../../shared/media/media-formats.ts';
import { motionPath, type MotionPath } from './motion.ts';

/** Maps a segment's `src` to a local file; throws when the src is not one the engine can read. */
export type ResolveLocalPath = (src: string) => string;

export class DraftRenderError extends Error {
  override name = 'DraftRenderError';
}

export interface RenderGeometry {
  width: number;
  height: number;
  fps: number;
  frames: number;
  durationS: number;
}

/** One picture of the video track as the frame stream carries it. */
export interface PlannedVideo {
  path: string;
  kind: 'image' | 'video';
  /** frames of this picture in the stream, counting the overlaps with both neighbours' transitions */
  frames: number;
  /** the transition from the previous picture, over its first `frames` frames */
  transitionIn?: { type: Exclude<Transition, 'none'>; frames: number };
  fit: Fit;
  background: string;
  /** the window's path, about the centre until the focus is resolved (aim.ts) */
  motion?: MotionPath;
  /** what `motion` was made of, to aim it at the focus */
  movement: { motion: Motion; intensity: number };
  /** where the motion aims; unset: the centre */
  focus?: Focus;
  /** where a `cover` crop is aligned, once the focus is resolved (unset: the centre) */
  crop?: FocusPoint;
  /** for video sources: where in the source to start, seconds */
  inS: number;
}

export interface PlannedCaption {
  text: string;
  startS: number;
  endS: number;
  position: TextSegment['m']['position'];
  size: TextSegment['m']['size'];
  color: string;
  /** unset: chosen by the glyphs the text needs (font.ts) */
  font?: FontFamily;
  weight: FontWeight;
  boxColor: string;
  /** 0: no box */
  boxOpacity: number;
  overflow: NonNullable<TextSegment['m']['overflow']>;
}

export interface PlannedAudio {
  path: string;
  startS: number;
  durationS: number;
  volume: number;
  fadeOutS: number;
  loop: boolean;
}

/** A picture over the video: a brand's logo. */
export interface PlannedLogo {
  path: string;
  startS: number;
  endS: number;
  corner: LogoSegment['m']['corner'];
  /** width, a fraction of the frame's */
  size: number;
  opacity: number;
  /** a fraction of the frame's width */
  margin: number;
}

/** A short text on a coloured shape in a corner (a price, a discount). */
export type PlannedBadge = BadgeSegment['m'] & { startS: number; endS: number };

export interface RenderPlan {
  geometry: RenderGeometry;
  videos: PlannedVideo[];
  captions: PlannedCaption[];
  audio: PlannedAudio[];
  logos: PlannedLogo[];
  badges: PlannedBadge[];
  quality: Draft['m']['quality'];
  /** a platform preset's encoding rules */
  encoding?: Draft['m']['encoding'];
}

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

interface SegmentOfType {
  0: VideoSegment;
  1: AudioSegment;
  2: LogoSegment;
  7: TextSegment;
  8: BadgeSegment;
}

function segmentsOf<T extends (typeof TRACK_TYPE)[keyof typeof TRACK_TYPE]>(draft: Draft, tt: T) {
  type Segment = SegmentOfType[T];
  return draft.t.filter((track) => track.tt === tt).flatMap((track) => track.sg as Segment[]);
}

/** The first video track's segments in timeline order; one video track is rendered. */
function videoSegments(draft: Draft): VideoSegment[] {
  const track = draft.t.find((t) => t.tt === TRACK_TYPE.video);
  return track && track.tt === TRACK_TYPE.video ? [...track.sg].sort((a, b) => a.s - b.s) : [];
}

/** Output size (even, as yuv420p needs), rate and exact frame count of a draft. */
export function renderGeometry(draft: Draft): RenderGeometry {
  const fps = draft.m.fps;
  const segmentsEnd = Math.max(0, ...videoSegments(draft).map((sg) => sg.s + sg.d));
  const durationMs = draft.d > 0 ? draft.d : segmentsEnd;
  const frames = Math.max(1, Math.round((durationMs * fps) / 1000));
  return { width: even(draft.m.width), height: even(draft.m.height), fps, frames, durationS: frames / fps };
}

/**
 * Pictures in frames. Each starts at its `s` (the first at 0) and holds the
 * screen until the next one starts, so gaps never show black; a transition
 * into a picture starts where it starts and lasts its `d`, so the previous
 * picture runs that much longer underneath. Every picture keeps at least one
 * frame of its own between its transitions.
 */
function planVideos(draft: Draft, geometry: RenderGeometry, resolve: ResolveLocalPath): PlannedVideo[] {
  const toFrame = (ms: number) => Math.round((ms * geometry.fps) / 1000);
  const all = videoSegments(draft).map((segment, i) => ({ segment, start: i === 0 ? 0 : Math.min(toFrame(segment.s), geometry.frames) }));
  const shown = all.filter((entry, i) => entry.start < (all[i + 1]?.start ?? geometry.frames));
  if (shown.length === 0) throw new DraftRenderError('the draft has no video segment to render');
  const transitions = shown.map(({ segment, start }, i) => {
    const transition = segment.m.transition;
    if (i === 0 || !transition || transition.type === 'none') return 0;
    const nextStart = shown[i + 1]?.start ?? geometry.frames;
    return Math.max(0, Math.min(toFrame(transition.d), nextStart - start - 1));
  });
  return shown.map(({ segment, start }, i) => {
    const path = resolve(segment.src);
    const kind = backendKindOf(path);
    if (kind !== 'image' && kind !== 'video') throw new DraftRenderError(`segment ${segment.src} is not an image or a video`);
    const end = (shown[i + 1]?.start ?? geometry.frames) + (transitions[i + 1] ?? 0);
    const transition = segment.m.transition;
    const transitionFrames = transitions[i]!;
    return {
      path,
      kind,
      frames: end - start,
      ...(transitionFrames > 0 && transition && transition.type !== 'none' && { transitionIn: { type: transition.type, frames: transitionFrames } }),
      fit: segment.m.fit,
      background: segment.m.background,
      motion: motionPath(segment.m.motion, segment.m.intensity),
      movement: { motion: segment.m.motion, intensity: segment.m.intensity },
      ...(segment.m.focus && { focus: segment.m.focus }),
      inS: (segment.m.in ?? 0) / 1000,
    };
  });
}

function planCaptions(draft: Draft, geometry: RenderGeometry): PlannedCaption[] {
  return segmentsOf(draft, TRACK_TYPE.text).flatMap((segment) => {
    const span = spanOf(segment, geometry);
    const { m } = segment;
    return span ? [{
      text: m.text,
      ...span,
      position: m.position,
      size: m.size,
      color: m.color,
      ...(m.font && { font: m.font }),
      weight: m.weight ?? 'regular',
      boxColor: m.box_color ?? '#000000',
      boxOpacity: m.box_opacity ?? 0.5,
      overflow: m.overflow ?? 'wrap',
    }] : [];
  });
}

/** A segment's span in seconds, clamped to the video; undefined when none of it is shown. */
function spanOf({ s, d }: { s: number; d: number }, geometry: RenderGeometry): { startS: number; endS: number } | undefined {
  const startS = Math.min(s / 1000, geometry.durationS);
  const endS = Math.min((s + d) / 1000, geometry.durationS);
  return endS > startS ? { startS, endS } : undefined;
}

function planLogos(draft: Draft, geometry: RenderGeometry, resolve: ResolveLocalPath): PlannedLogo[] {
  return segmentsOf(draft, TRACK_TYPE.logo).flatMap((segment) => {
    const span = spanOf(segment, geometry);
    if (!span) return [];
    const path = resolve(segment.src);
    if (backendKindOf(path) !== 'image') throw new DraftRenderError(`logo segment ${segment.src} is not an image`);
    const { corner, size, opacity, margin } = segment.m;
    return [{ path, ...span, corner, size, opacity, margin }];
  });
}

function planBadges(draft: Draft, geometry: RenderGeometry): PlannedBadge[] {
  return segmentsOf(draft, TRACK_TYPE.badge).flatMap((segment) => {
    const span = spanOf(segment, geometry);
    return span ? [{ ...segment.m, ...span }] : [];
  });
}

function planAudio(draft: Draft, geometry: RenderGeometry, resolve: ResolveLocalPath): PlannedAudio[] {
  return segmentsOf(draft, TRACK_TYPE.audio)
    .map(({ s, d, src, m }) => {
      const startS = s / 1000;
      const durationS = Math.min(d / 1000, geometry.durationS - startS);
      return { src, startS, durationS, volume: m.volume, fadeOutS: Math.min(m.fade_out / 1000, Math.max(durationS, 0)), loop: m.loop };
    })
    .filter((audio) => audio.durationS > 0)
    .map(({ src, ...audio }) => {
      const path = resolve(src);
      const kind = backendKindOf(path);
      if (kind !== 'audio' && kind !== 'video') throw new DraftRenderError(`audio segment ${src} is not an audio or video file`);
      return { path, ...audio };
    });
}

/** Everything the renderer does, in frames and seconds; throws DraftRenderError when the draft cannot be rendered. */
export function planRender(draft: Draft, resolve: ResolveLocalPath): RenderPlan {
  const geometry = renderGeometry(draft);
  return {
    geometry,
    videos: planVideos(draft, geometry, resolve),
    captions: planCaptions(draft, geometry),
    audio: planAudio(draft, geometry, resolve),
    logos: planLogos(draft, geometry, resolve),
    badges: planBadges(draft, geometry),
    quality: draft.m.quality,
    ...(draft.m.encoding && { encoding: draft.m.encoding }),
  };
}
