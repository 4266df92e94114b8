import { drawtext } from './captions.ts';
import { ffmpegColor, filterValue, timeWindow } from './filter-escape.ts';
import { captionFamily, fontFile } from './font.ts';
import { fontMetrics, lineWidth } from './font-metrics.ts';
import type { PlannedBadge, RenderGeometry } from './timeline.ts';

/** The text's size, a fraction of the frame's shorter side. */
const SIZE_OF_SHORT_SIDE: Record<PlannedBadge['size'], number> = { small: 0.045, medium: 0.065, large: 0.09 };
const MARGIN_OF_WIDTH = 0.04;
const PADDING_X_EM = 0.45;
const PADDING_Y_EM = 0.25;
const LINE_EM = 1.25;
const MIN_FONT_PX = 8;

/** A badge's text on one line, as drawn. */
export const badgeText = (badge: Pick<PlannedBadge, 'text'>) => badge.text.replace(/\s+/g, ' ');

/** Where a badge is drawn: its shape's box in the frame, and the text's font and size. */
export interface BadgeLayout {
  fontFile: string;
  fontSize: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** the shape's corner radius (half the height for a pill, half the width for a circle) */
  radius: number;
}

function shapeAt(badge: PlannedBadge, textWidth: number, fontSize: number): Pick<BadgeLayout, 'width' | 'height' | 'radius'> {
  const padY = Math.round(fontSize * PADDING_Y_EM);
  const height = Math.round(fontSize * LINE_EM) + 2 * padY;
  const width = textWidth + 2 * Math.round(fontSize * PADDING_X_EM);
  switch (badge.shape) {
    case 'rectangle':
      return { width, height, radius: 0 };
    case 'rounded':
      return { width, height, radius: Math.round(height / 4) };
    case 'pill':
      return { width: Math.max(width, height), height, radius: height / 2 };
    case 'circle': {
      // the text's box fits inside the circle
      const diameter = Math.max(height, Math.ceil(Math.hypot(textWidth, fontSize * LINE_EM)) + 2 * padY);
      return { width: diameter, height: diameter, radius: diameter / 2 };
    }
  }
}

/** The badge's layout: its text in bold at its size, made smaller when the shape would not fit inside the frame's margins. */
export function badgeLayout(badge: PlannedBadge, geometry: Pick<RenderGeometry, 'width' | 'height'>): BadgeLayout {
  const text = badgeText(badge);
  const file = fontFile(captionFamily(text, undefined, 'bold'), 'bold');
  const metrics = fontMetrics(file);
  const margin = Math.round(geometry.width * MARGIN_OF_WIDTH);
  let fontSize = Math.max(MIN_FONT_PX, Math.round(Math.min(geometry.width, geometry.height) * SIZE_OF_SHORT_SIDE[badge.size]));
  let shape = shapeAt(badge, lineWidth(metrics, text, fontSize), fontSize);
  while (fontSize > MIN_FONT_PX && (shape.width > geometry.width - 2 * margin || shape.height > geometry.height - 2 * margin)) {
    fontSize--;
    shape = shapeAt(badge, lineWidth(metrics, text, fontSize), fontSize);
  }
  const x = badge.corner.endsWith('left') ? margin : geometry.width - shape.width - margin;
  const y = badge.corner.startsWith('top') ? margin : geometry.height - shape.height - margin;
  return { fontFile: file, fontSize, x, y, ...shape };
}

/** The shape as straight-alpha RGBA pixels, its edge anti-aliased over one pixel. */
export function badgeShapePixels(badge: Pick<PlannedBadge, 'background'>, layout: Pick<BadgeLayout, 'width' | 'height' | 'radius'>): Buffer {
  const { width, height, radius } = layout;
  const rgb = parseInt(ffmpegColor(badge.background).slice(2), 16);
  const color = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
  const pixels = Buffer.alloc(width * height * 4);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      // signed distance from the pixel's centre to the rounded rectangle's edge
      const qx = Math.abs(px + 0.5 - width / 2) - (width / 2 - radius);
      const qy = Math.abs(py + 0.5 - height / 2) - (height / 2 - radius);
      const distance = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
      const coverage = Math.min(1, Math.max(0, 0.5 - distance));
      pixels.set([...color, Math.round(coverage * 255)], (py * width + px) * 4);
    }
  }
  return pixels;
}

/** One input per badge: its shape, raw RGBA from `shapeFile`. */
export function badgeInputArgs(layouts: readonly BadgeLayout[], shapeFiles: readonly string[]): string[] {
  return layouts.flatMap((layout, i) => ['-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${layout.width}x${layout.height}`, '-protocol_whitelist', 'file', '-i', `file:${shapeFiles[i]}`]);
}

/** The badge over `[from]` into `[to]`: its shape, then its text (from `textFile`) centred on it. */
export function badgeFilters(badge: PlannedBadge, layout: BadgeLayout, input: number, textFile: string, from: string, to: string): string {
  const text = drawtext([
    ['fontfile', layout.fontFile],
    ['textfile', textFile],
    ['expansion', 'none'],
    ['fontsize', layout.fontSize],
    ['fontcolor', ffmpegColor(badge.color)],
    ['x', `${layout.x}+(${layout.width}-text_w)/2`],
    ['y', `${layout.y}+(${layout.height}-text_h)/2`],
    ['enable', timeWindow(badge.startS, badge.endS)],
  ]);
  return `[${from}][${input}:v]overlay=x=${layout.x}:y=${layout.y}:eof_action=repeat:enable=${filterValue(timeWindow(badge.startS, badge.endS))},${text}[${to}]`;
}
