import type { Fit, FocusPoint } from '../../shared/jobs/draft.ts';

/**
 * The focal point of a picture: where its zooms and pans aim. `auto` looks
 * for the product of a studio shot, a subject on a plain background, in a
 * small copy of the picture; no model, only colours.
 */

/** The side of the square yuv420p copy a picture is shrunk to for finding its subject (positions are fractions, so its shape does not matter). */
export const ANALYSIS_SIDE = 64;

const CENTRE: FocusPoint = { x: 0.5, y: 0.5 };
/** the outer rings of the copy that tell the background's colour */
const BORDER = 2;
/** a border pixel this near the background's colour is background (luma units; chroma counts double) */
const PLAIN_DISTANCE = 24;
/** at least this share of the border must be background for the background to be plain */
const PLAIN_SHARE = 0.85;
/** a pixel this far from the background's colour belongs to a subject */
const SUBJECT_DISTANCE = 40;
/** a subject covers at least this many pixels of the copy, and less than this share of it */
const MIN_SUBJECT_PIXELS = 4;
const MAX_SUBJECT_SHARE = 0.9;

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;

/**
 * The centre of the largest region that stands out from a plain background,
 * in a `side`×`side` yuv420p picture, as fractions; the picture's centre when
 * the border is not one plain colour or nothing (or everything) stands out.
 */
export function findSubject(frame: Uint8Array, side = ANALYSIS_SIDE): FocusPoint {
  const half = side >> 1;
  const u = side * side;
  const v = u + half * half;
  const chroma = (x: number, y: number) => (y >> 1) * half + (x >> 1);
  const border: number[] = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) if (x < BORDER || y < BORDER || x >= side - BORDER || y >= side - BORDER) border.push(y * side + x);
  }
  const background = [
    median(border.map((i) => frame[i]!)),
    median(border.map((i) => frame[u + chroma(i % side, Math.floor(i / side))]!)),
    median(border.map((i) => frame[v + chroma(i % side, Math.floor(i / side))]!)),
  ] as const;
  const distance = (i: number) => {
    const c = chroma(i % side, Math.floor(i / side));
    return Math.abs(frame[i]! - background[0]) + 2 * (Math.abs(frame[u + c]! - background[1]) + Math.abs(frame[v + c]! - background[2]));
  };
  if (border.filter((i) => distance(i) <= PLAIN_DISTANCE).length < border.length * PLAIN_SHARE) return CENTRE;

  const subject = new Uint8Array(side * side);
  for (let i = 0; i < subject.length; i++) subject[i] = distance(i) > SUBJECT_DISTANCE ? 1 : 0;
  const largest = largestRegion(subject, side);
  if (!largest || largest.pixels < MIN_SUBJECT_PIXELS || largest.pixels > side * side * MAX_SUBJECT_SHARE) return CENTRE;
  return { x: (largest.left + largest.right + 1) / 2 / side, y: (largest.top + largest.bottom + 1) / 2 / side };
}

interface Region {
  pixels: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The largest 4-connected region of set pixels and its bounding box (inclusive pixel indices). */
function largestRegion(mask: Uint8Array, side: number): Region | undefined {
  const seen = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let best: Region | undefined;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const region = { pixels: 0, left: side, right: -1, top: side, bottom: -1 };
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    while (head < tail) {
      const i = queue[head++]!;
      const x = i % side;
      const y = (i - x) / side;
      region.pixels++;
      region.left = Math.min(region.left, x);
      region.right = Math.max(region.right, x);
      region.top = Math.min(region.top, y);
      region.bottom = Math.max(region.bottom, y);
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        const n = ny * side + nx;
        if (nx < 0 || ny < 0 || nx >= side || ny >= side || !mask[n] || seen[n]) continue;
        seen[n] = 1;
        queue[tail++] = n;
      }
    }
    if (!best || region.pixels > best.pixels) best = region;
  }
  return best;
}

/**
 * How a picture of `pictureAspect` (width / height) is placed in a frame of
 * `frameAspect` so that `focus` (a point of the picture) shows: where a
 * `cover` crop is aligned (0: against the left/top edge, 1: against the
 * right/bottom one; always inside the picture) and where the focus then
 * lands in the frame, as fractions.
 */
export function focusFraming(fit: Fit, focus: FocusPoint, pictureAspect: number, frameAspect: number): { point: FocusPoint; crop?: FocusPoint } {
  if (fit !== 'cover') {
    // the whole picture shows, centred: the share of the frame it covers along each axis
    const shown = { x: Math.min(1, pictureAspect / frameAspect), y: Math.min(1, frameAspect / pictureAspect) };
    return { point: { x: 0.5 + (focus.x - 0.5) * shown.x, y: 0.5 + (focus.y - 0.5) * shown.y } };
  }
  /** the share of the picture a cover crop keeps along an axis, the crop's alignment, the focus in the crop */
  const axis = (at: number, kept: number) => {
    if (kept >= 1) return { align: 0.5, point: at };
    const align = Math.min(Math.max((at - kept / 2) / (1 - kept), 0), 1);
    return { align, point: (at - align * (1 - kept)) / kept };
  };
  const x = axis(focus.x, Math.min(1, frameAspect / pictureAspect));
  const y = axis(focus.y, Math.min(1, pictureAspect / frameAspect));
  return { point: { x: x.point, y: y.point }, crop: { x: x.align, y: y.align } };
}
