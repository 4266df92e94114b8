import type { PlannedVideo, RenderGeometry } from './timeline.ts';

/** A part of the output: frames [start, end) of the input stream as they are, or a transition between two such ranges. */
type Piece =
  | { kind: 'range'; start: number; end: number }
  | { kind: 'transition'; type: string; from: { start: number; end: number }; to: { start: number; end: number } };

/**
 * The output in pieces. The stream holds the pictures one after another,
 * each with the frames it shows under its neighbours' transitions; between
 * two pictures the transition's frames come from the tail of the first and
 * the head of the second, everything else passes as it is.
 */
export function streamPieces(videos: PlannedVideo[]): Piece[] {
  const pieces: Piece[] = [];
  let position = 0;
  const addRange = (start: number, end: number) => {
    const last = pieces.at(-1);
    if (last?.kind === 'range' && last.end === start) last.end = end;
    else pieces.push({ kind: 'range', start, end });
  };
  videos.forEach((video, i) => {
    const inFrames = video.transitionIn?.frames ?? 0;
    const outFrames = videos[i + 1]?.transitionIn?.frames ?? 0;
    if (video.transitionIn) {
      const tail = { start: position - inFrames, end: position };
      pieces.push({ kind: 'transition', type: video.transitionIn.type, from: tail, to: { start: position, end: position + inFrames } });
    }
    addRange(position + inFrames, position + video.frames - outFrames);
    position += video.frames;
  });
  return pieces;
}

const seconds = (value: number) => String(Number(value.toFixed(6)));

/**
 * The filters that turn the input stream `[input]` into the timeline `[output]`.
 * Only transition frames go through xfade: in ffmpeg 5.1 it works in 4:4:4,
 * and converting every frame there and back would cost more than the motion.
 */
export function transitionGraph(videos: PlannedVideo[], geometry: RenderGeometry, input: string, output: string): string {
  const pieces = streamPieces(videos);
  if (pieces.length === 1) return `[${input}]null[${output}]`;
  const ranges = pieces.flatMap((piece) => (piece.kind === 'range' ? [piece] : [piece.from, piece.to]));
  const trims = ranges.map(({ start, end }, i) => `[s${i}]trim=start_frame=${start}:end_frame=${end},setpts=PTS-STARTPTS[r${i}]`);
  let next = 0;
  const parts = pieces.map((piece, i) => {
    if (piece.kind === 'range') return { label: `r${next++}` };
    const [from, to] = [next++, next++];
    const duration = seconds((piece.to.end - piece.to.start) / geometry.fps);
    return { label: `x${i}`, filter: `[r${from}][r${to}]xfade=transition=${piece.type}:duration=${duration}:offset=0,format=yuv420p[x${i}]` };
  });
  return [
    `[${input}]split=${ranges.length}${ranges.map((_, i) => `[s${i}]`).join('')}`,
    ...trims,
    ...parts.flatMap((part) => (part.filter ? [part.filter] : [])),
    // concat times each piece by its last frame's duration, which xfade leaves unset, so pieces
    // would overlap and the encoder drop frames; every frame is one frame long, so renumber them
    `${parts.map((part) => `[${part.label}]`).join('')}concat=n=${parts.length}:v=1:a=0,setpts=N/(${geometry.fps}*TB)[${output}]`,
  ].join(';');
}
