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

/**
 * The filters that turn the frame stream `[input]` into the timeline
 * `[output]`. Only transition frames go through xfade, which in ffmpeg 5.1
 * works in 4:4:4: converting every frame there and back would cost more than
 * the motion, and its buffers stay allocated to the end.
 */
export function transitionGraph(videos: PlannedVideo[], geometry: RenderGeometry, input: string, output: string): string {
  const pieces = streamPieces(videos);
  if (pieces.length === 1) return `[${input}]null[${output}]`;
  const renumber = `setpts=N/(${geometry.fps}*TB)`;
  const chains = pieces.map((piece, i) => {
    if (piece.kind === 'range') return `[s${i}]setpts=PTS-STARTPTS[p${i}]`;
    const duration = seconds((piece.end - piece.start) / 2 / geometry.fps);
    return (
      `[s${i}]select=outputs=2:expr=1+mod(n\\,2)[a${i}][b${i}];[a${i}]${renumber}[from${i}];[b${i}]${renumber}[to${i}];` +
      `[from${i}][to${i}]xfade=transition=${piece.type}:duration=${duration}:offset=0,format=yuv420p[p${i}]`
    );
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
