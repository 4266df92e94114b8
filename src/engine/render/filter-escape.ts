/**
 * Makes any string a literal option value inside an ffmpeg filtergraph. Two
 * levels unescape it: the graph parser (which also splits on `[],;`) and then
 * the filter's option parser (which splits on `:`); each needs its own
 * backslashes, so the value is escaped for the inner level first.
 */
export function filterValue(value: string): string {
  const forOptions = value.replace(/[\\':]/g, '\\$&');
  return forOptions.replace(/[\\'[\],;]/g, '\\$&');
}

/** A number as a filter option writes it: at most 6 decimals, no trailing zeros. */
export const filterNumber = (value: number) => String(Number(value.toFixed(6)));

/** An `enable` expression (unescaped): from `startS` until `endS`. */
export const timeWindow = (startS: number, endS: number) => `gte(t,${filterNumber(startS)})*lt(t,${filterNumber(endS)})`;

/** `#rgb` or `#rrggbb` as ffmpeg's `0xRRGGBB` (the schema has checked the shape). */
export function ffmpegColor(hex: string): string {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits;
  return `0x${full.toUpperCase()}`;
}
