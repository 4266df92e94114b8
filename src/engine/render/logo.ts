import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import { filterNumber, filterValue, timeWindow } from './filter-escape.ts';
import type { PlannedLogo, RenderGeometry } from './timeline.ts';

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Where an overlay of size (w, h) sits `margin` px in from a corner, as overlay's x and y expressions. */
export function cornerPosition(corner: PlannedLogo['corner'], margin: number): { x: string; y: string } {
  return {
    x: corner.endsWith('left') ? String(margin) : `main_w-overlay_w-${margin}`,
    y: corner.startsWith('top') ? String(margin) : `main_h-overlay_h-${margin}`,
  };
}

/** One input per logo: the picture file (its first frame is shown throughout). */
export function logoInputArgs(logos: readonly PlannedLogo[]): string[] {
  return logos.flatMap((logo) => localFileInput(logo.path));
}

/**
 * The logo laid over `[from]` into `[to]`: scaled to its share of the frame's
 * width (and at most half its height), its alpha multiplied by the opacity,
 * in its corner for its time.
 */
export function logoFilters(logo: PlannedLogo, index: number, input: number, geometry: RenderGeometry, from: string, to: string): string {
  const width = even(geometry.width * logo.size);
  const { x, y } = cornerPosition(logo.corner, Math.round(geometry.width * logo.margin));
  const label = `logo${index}`;
  return [
    `[${input}:v]trim=end_frame=1,scale=w=${width}:h=${even(geometry.height / 2)}:force_original_aspect_ratio=decrease:force_divisible_by=2,` +
      `format=rgba,colorchannelmixer=aa=${filterNumber(logo.opacity)}[${label}]`,
    `[${from}][${label}]overlay=x=${x}:y=${y}:eof_action=repeat:enable=${filterValue(timeWindow(logo.startS, logo.endS))}[${to}]`,
  ].join(';');
}
