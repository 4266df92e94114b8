import type { Motion } from '../../shared/jobs/draft.ts';

/**
 * Motions as a path of the visible window over the (cover-cropped) picture.
 * The window keeps the output's aspect ratio: `size` is its side as a fraction
 * of the frame's, `cx`/`cy` its centre as fractions.
 */
export interface ViewWindow {
  cx: number;
  cy: number;
  size: number;
}

export interface MotionPath {
  from: ViewWindow;
  to: ViewWindow;
}

/**
 * `intensity` 0.15 means the window ends 15% smaller (a 1.15× zoom), or pans across that margin.
 * `aim` (a point of the frame, as fractions) is what the zoomed windows centre on, as near as they can
 * while staying inside the picture; a pan still crosses its whole margin along its own axis (the
 * only way both its ends stay inside), aimed across it. Unset: the centre, and ken-burns' drift.
 */
export function motionPath(motion: Motion, intensity: number, aim?: { x: number; y: number }): MotionPath | undefined {
  if (motion === 'static' || intensity <= 0) return undefined;
  const zoomed = 1 / (1 + intensity);
  /** how far the centre of a zoomed window can move from the middle */
  const margin = (1 - zoomed) / 2;
  const full = { cx: 0.5, cy: 0.5, size: 1 };
  // KEEP_INSIDE: a zoomed window's centre never moves past the margin, so it never shows outside the picture
  const inside = (c: number) => Math.min(Math.max(c, 0.5 - margin), 0.5 + margin);
  const along = (d: number, aimed: number | undefined) => (d === 0 && aimed !== undefined ? inside(aimed) : 0.5 + d * margin);
  const at = (dx: number, dy: number) => ({ cx: along(dx, aim?.x), cy: along(dy, aim?.y), size: zoomed });
  switch (motion) {
    case 'zoom-in':
      return { from: full, to: at(0, 0) };
    case 'zoom-out':
      return { from: at(0, 0), to: full };
    // pans are named for the way the picture moves: the window travels the other way
    case 'pan-left':
      return { from: at(-1, 0), to: at(1, 0) };
    case 'pan-right':
      return { from: at(1, 0), to: at(-1, 0) };
    case 'pan-up':
      return { from: at(0, -1), to: at(0, 1) };
    case 'pan-down':
      return { from: at(0, 1), to: at(0, -1) };
    case 'ken-burns':
      // a zoom-in drifting toward the upper right (or the aim); the drift stays inside the
      // margin because the margin grows at least linearly along the zoom
      return { from: full, to: aim ? at(0, 0) : at(0.6, -0.6) };
  }
}

/**
 * The window `progress` (0–1) of the way along the path. Its size changes
 * geometrically, so the zoom speed looks constant; the centre moves linearly.
 */
export function windowAt(path: MotionPath, progress: number): ViewWindow {
  const { from, to } = path;
  return {
    cx: from.cx + (to.cx - from.cx) * progress,
    cy: from.cy + (to.cy - from.cy) * progress,
    size: from.size * Math.pow(to.size / from.size, progress),
  };
}

/** Bilinear sampling may shrink by at most this much before fine detail starts to alias (and shimmer). */
const MAX_SHRINK = 1.2;

/**
 * How much larger than the output the picture is prepared, once, before it
 * moves: as large as the closest view needs (so it stays sharp), but never so
 * large that the widest view shrinks it by more than MAX_SHRINK.
 */
export function sourceScale(path: MotionPath | undefined): number {
  if (!path) return 1;
  const smallest = Math.min(path.from.size, path.to.size);
  const largest = Math.max(path.from.size, path.to.size);
  return Math.min(1 / smallest, MAX_SHRINK / largest);
}
