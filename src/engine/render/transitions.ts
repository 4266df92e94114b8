import type { PlannedVideo, RenderGeometry } from './timeline.ts';

/**
 * A part of the frame stream: frames [start, end) shown as they are, or a
 * transition whose two sides come interleaved (first picture's frame, second
 * picture's frame, …), so ffmpeg can blend them without holding either side.
 */
export type Piece = { kind: 'range'; start: number; end: number } | { kind: 'transition'; type: string; start: number; end: number };

/**
 * The stream's pieces in order. Each picture's frames come in turn; where a
 * transition joins two pictures, the last `frames` of the first and the first
 * `frames` of the second alternate (see frame-pump.ts).
 */
export function streamPieces(videos: PlannedVideo[]): Piece[] {
  const pieces: Piece[] = [];
  let position = 0;
  videos.forEach((video, i) => {
    if (video.transitionIn) {
      const end = position + 2 * video.transitionIn.frames;
      pieces.push({ kind: 'transition', type: video.transitionIn.type, start: position, end });
      position = end;
    }
    const own = video.frames - (video.transitionIn?.frames ?? 0) - (videos[i + 1]?.transitionIn?.frames ?? 0);
    const last = pieces.at(-1);
    if (last?.kind === 'range') last.end += own;
    else pieces.push({ kind: 'range', start: position, end: position + own });
    position += own;
  });
  return pieces;
}

const seconds = (value: number) => String(Number(value.toFixed(6)));

const PLANES = ['y', 'u', 'v'] as const;

/**
 * The filters that turn the frame stream `[input]` into the timeline
 * `[output]`. Only transition frames go through xfade, and plane by plane: in
 * ffmpeg 5.1 xfade takes no 4:2:0, and converting to 4:4:4 and back cost
 * several times the blend itself (and kept its buffers to the end).
 */
export function transitionGraph(videos: PlannedVideo[], geometry: RenderGeometry, input: string, output: string): string {
  const pieces = streamPieces(videos);
  if (pieces.length === 1) return `[${input}]null[${output}]`;
  const renumber = `setpts=N/(${geometry.fps}*TB)`;
  const chains = pieces.map((piece, i) => {
    if (piece.kind === 'range') return `[s${i}]setpts=PTS-STARTPTS[p${i}]`;
    const duration = seconds((piece.end - piece.start) / 2 / geometry.fps);
    const sides = (side: string, from: string) => `[${from}${i}]${renumber},extractplanes=y+u+v${PLANES.map((plane) => `[${side}${plane}${i}]`).join('')}`;
    return [
      `[s${i}]select=outputs=2:expr=1+mod(n\\,2)[a${i}][b${i}]`,
      sides('from', 'a'),
      sides('to', 'b'),
      ...PLANES.map((plane) => `[from${plane}${i}][to${plane}${i}]xfade=transition=${piece.type}:duration=${duration}:offset=0[x${plane}${i}]`),
      `${PLANES.map((plane) => `[x${plane}${i}]`).join('')}mergeplanes=0x001020:yuv420p[p${i}]`,
    ].join(';');
  });
  return [
    // segment hands each frame to exactly one piece
    `[${input}]segment=frames=${pieces.slice(1).map((p) => p.start).join('|')}${pieces.map((_, i) => `[s${i}]`).join('')}`,
    ...chains,
    // concat times each piece by its last frame's duration, which xfade leaves unset, so pieces
    // would overlap and the encoder drop frames; every frame is one frame long, so renumber them
    `${pieces.map((_, i) => `[p${i}]`).join('')}concat=n=${pieces.length}:v=1:a=0,${renumber}[${output}]`,
  ].join(';');
}
