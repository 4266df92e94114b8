import { TRACK_TYPE, type Draft, type VideoSegment } from '../shared/draft.ts';
import { fileTypeOf } from './media-types.ts';
import { motionPath, perspectiveFilter } from './motion.ts';

/** Maps a segment's `src` to a local file; throws when the src is not one the engine can read. */
export type ResolveLocalPath = (src: string) => string;

export interface RenderGeometry {
  width: number;
  height: number;
  fps: number;
  frames: number;
  durationS: number;
}

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/** Output size (even, as yuv420p needs), rate and exact frame count of a draft. */
export function renderGeometry(draft: Draft): RenderGeometry {
  const fps = draft.m.fps;
  const segmentsEnd = Math.max(0, ...videoSegments(draft).map((sg) => sg.s + sg.d));
  const durationMs = draft.d > 0 ? draft.d : segmentsEnd;
  const frames = Math.max(1, Math.round((durationMs * fps) / 1000));
  return { width: even(draft.m.width), height: even(draft.m.height), fps, frames, durationS: frames / fps };
}

/** The first video track's segments in timeline order; the first cut renders one video track. */
function videoSegments(draft: Draft): VideoSegment[] {
  const track = draft.t.find((t) => t.tt === TRACK_TYPE.video);
  return track && track.tt === TRACK_TYPE.video ? [...track.sg].sort((a, b) => a.s - b.s) : [];
}

export class DraftRenderError extends Error {
  override name = 'DraftRenderError';
}

interface PlannedSegment {
  segment: VideoSegment;
  path: string;
  frames: number;
}

/** Each segment holds the screen until the next one starts, so gaps never show black. */
function planSegments(draft: Draft, geometry: RenderGeometry, resolve: ResolveLocalPath): PlannedSegment[] {
  const segments = videoSegments(draft);
  const starts = segments.map((sg, i) => (i === 0 ? 0 : Math.round((sg.s * geometry.fps) / 1000)));
  const planned = segments
    .map((segment, i) => ({ segment, start: Math.min(starts[i]!, geometry.frames), end: Math.min(starts[i + 1] ?? geometry.frames, geometry.frames) }))
    .filter(({ start, end }) => end > start)
    .map(({ segment, start, end }) => ({ segment, path: resolve(segment.src), frames: end - start }));
  if (planned.length === 0) throw new DraftRenderError('the draft has no video segment to render');
  for (const { segment, path } of planned) {
    const type = fileTypeOf(path);
    if (type !== 'image' && type !== 'video') throw new DraftRenderError(`segment ${segment.src} is not an image or a video`);
  }
  return planned;
}

/** Throws DraftRenderError when the draft cannot be rendered (nothing to show, an unknown or non-visual src). */
export function checkRenderable(draft: Draft, resolveLocalPath: ResolveLocalPath): void {
  planSegments(draft, renderGeometry(draft), resolveLocalPath);
}

/**
 * The filter chain of one segment: its picture scaled to cover the frame
 * (centre crop), exactly `frames` frames long, then moved. An image is decoded
 * once and repeated by `loop`; `-loop 1` would decode it again for every frame.
 */
function segmentFilter(index: number, planned: PlannedSegment, g: RenderGeometry): string {
  const cover =
    `scale=${g.width}:${g.height}:force_original_aspect_ratio=increase:flags=lanczos:out_color_matrix=bt709:out_range=tv,` +
    `crop=${g.width}:${g.height},setsar=1,format=yuv420p`;
  const timing = `setpts=N/(${g.fps}*TB)`;
  const source =
    fileTypeOf(planned.path) === 'image'
      ? `trim=end_frame=1,${cover},loop=loop=${planned.frames - 1}:size=1:start=0,${timing}`
      : `fps=${g.fps},${cover},tpad=stop=-1:stop_mode=clone,trim=end_frame=${planned.frames},${timing}`;
  const path = motionPath(planned.segment.m.motion, planned.segment.m.intensity);
  const motion = path ? `,${perspectiveFilter(path, planned.frames)}` : '';
  return `[${index}:v]${source}${motion}[v${index}]`;
}

/**
 * The ffmpeg arguments that render a draft's first video track to an H.264
 * High / yuv420p / BT.709 MP4 of exactly the draft's duration. Pure: the same
 * draft always gives the same command.
 */
export function buildRenderCommand(draft: Draft, resolveLocalPath: ResolveLocalPath, outPath: string): string[] {
  const geometry = renderGeometry(draft);
  const planned = planSegments(draft, geometry, resolveLocalPath);
  const chains = planned.map((p, i) => segmentFilter(i, p, geometry));
  const labels = planned.map((_, i) => `[v${i}]`).join('');
  const graph = [...chains, `${labels}concat=n=${planned.length}:v=1:a=0[out]`].join(';');
  return [
    '-nostdin', '-y', '-hide_banner', '-v', 'error', '-progress', 'pipe:1', '-nostats',
    // file: keeps a path from being read as another protocol (e.g. "concat:")
    ...planned.flatMap((p) => ['-i', `file:${p.path}`]),
    '-filter_complex', graph,
    '-map', '[out]',
    '-frames:v', String(geometry.frames),
    '-t', String(geometry.durationS),
    '-r', String(geometry.fps),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-movflags', '+faststart',
    '-an',
    '-f', 'mp4',
    `file:${outPath}`,
  ];
}
