/** Where each of `count` consecutive segments sits on a timeline of `totalMs`. */
export interface SegmentSpan {
  /** start, ms */
  s: number;
  /** duration, ms */
  d: number;
}

/**
 * Equal segments that fill `totalMs` exactly, each starting `overlapMs` before
 * the previous one ends (the transition between them); the last one takes the
 * rounding remainder. The overlap is shortened where the segments are too
 * short for it: a segment must never be in two transitions at once, so each
 * lasts at least twice the overlap.
 */
export function segmentSpans(totalMs: number, count: number, transitionMs: number): { spans: SegmentSpan[]; overlapMs: number } {
  const overlapMs = count > 1 ? Math.max(0, Math.min(transitionMs, Math.floor(totalMs / (count + 1)))) : 0;
  const covered = totalMs + (count - 1) * overlapMs;
  const base = Math.floor(covered / count);
  const remainder = covered - base * count;
  const spans = Array.from({ length: count }, (_, index) => ({
    s: index * (base - overlapMs),
    d: index === count - 1 ? base + remainder : base,
  }));
  return { spans, overlapMs };
}
