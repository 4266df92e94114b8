import type { Motion } from '../shared/draft.ts';

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

/** `intensity` 0.15 means the window ends 15% smaller (a 1.15× zoom), or pans across that margin. */
export function motionPath(motion: Motion, intensity: number): MotionPath | undefined {
  if (motion === 'static' || intensity <= 0) return undefined;
  const zoomed = 1 / (1 + intensity);
  /** how far the centre of a zoomed window can move from the middle */
  const margin = (1 - zoomed) / 2;
  const full = { cx: 0.5, cy: 0.5, size: 1 };
  const at = (dx: number, dy: number) => ({ cx: 0.5 + dx * margin, cy: 0.5 + dy * margin, size: zoomed });
  switch (motion) {
    case 'zoom-in':
      return { from: full, to: at(0, 0) };
    case 'zoom-out':
      return { from: at(0, 0), to: full };
    case 'pan-left':
      return { from: at(1, 0), to: at(-1, 0) };
    case 'pan-right':
      return { from: at(-1, 0), to: at(1, 0) };
    case 'pan-up':
      return { from: at(0, 1), to: at(0, -1) };
    case 'pan-down':
      return { from: at(0, -1), to: at(0, 1) };
    case 'ken-burns':
      // a zoom-in drifting toward the upper right; the drift stays inside the
      // margin because the margin grows at least linearly along the zoom
      return { from: full, to: at(0.6, -0.6) };
  }
}

const num = (value: number) => String(Number(value.toFixed(9)));

/** `a + b*p` as an ffmpeg expression (no commas, so it needs no escaping inside a filtergraph). */
function lerpExpr(a: number, b: number, p: string): string {
  if (b === 0) return num(a);
  const slope = `${num(Math.abs(b))}*${p}`;
  if (a === 0) return b < 0 ? `(-${slope})` : slope;
  return `(${num(a)}${b < 0 ? '-' : '+'}${slope})`;
}

/**
 * The `perspective` filter arguments that move the window along the path over
 * `frames` frames. The window size changes geometrically, so the zoom speed
 * looks constant; perspective samples at 1/256 px, so the motion is sub-pixel
 * smooth (zoompan rounds to whole pixels and shakes). Its `in` counts from 1.
 */
export function perspectiveFilter(path: MotionPath, frames: number): string {
  const p = `(in-1)/${Math.max(frames - 1, 1)}`;
  const { from, to } = path;
  const halfSize =
    from.size === to.size ? num(from.size / 2) : `exp(${lerpExpr(Math.log(from.size), Math.log(to.size / from.size), p)})/2`;
  const cx = lerpExpr(from.cx, to.cx - from.cx, p);
  const cy = lerpExpr(from.cy, to.cy - from.cy, p);
  const left = `W*(${cx}-${halfSize})`;
  const right = `W*(${cx}+${halfSize})`;
  const top = `H*(${cy}-${halfSize})`;
  const bottom = `H*(${cy}+${halfSize})`;
  return (
    `perspective=x0=${left}:y0=${top}:x1=${right}:y1=${top}:x2=${left}:y2=${bottom}:x3=${right}:y3=${bottom}` +
    `:interpolation=cubic:eval=frame`
  );
}
