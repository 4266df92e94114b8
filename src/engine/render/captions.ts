import type { PlannedCaption, RenderGeometry } from './timeline.ts';
import { ffmpegColor, filterValue, timeWindow } from './filter-escape.ts';
import { captionFamily, fontFile } from './font.ts';
import { fontMetrics, lineWidth, type FontMetrics } from './font-metrics.ts';

const SIZE_OF_HEIGHT: Record<PlannedCaption['size'], number> = { small: 0.03, medium: 0.042, large: 0.06 };
const MARGIN_OF_HEIGHT = 0.08;
/** of the frame's width, the box's border included */
const WIDTH_USED = 0.9;
const BOX_BORDER_EM = 0.4;
const LINE_SPACING_EM = 0.25;
const LINE_HEIGHT_EM = 1.3;
/** the smallest text a caption shrinks to; a caption still too wide there is wrapped */
export const MIN_FONT_PX = 8;

export type CaptionStyle = Pick<PlannedCaption, 'text' | 'size' | 'font' | 'weight' | 'overflow'>;

export interface CaptionLayout {
  fontFile: string;
  fontSize: number;
  /** the text's lines as drawn, each within the frame's width */
  lines: string[];
}

const boxBorder = (fontSize: number) => Math.round(fontSize * BOX_BORDER_EM);

/** The widest a line may be at a font size: the frame's used width less the box's border each side. */
const roomAt = (geometry: Pick<RenderGeometry, 'width'>, fontSize: number) => geometry.width * WIDTH_USED - 2 * boxBorder(fontSize);

/** Breaks a paragraph between words where it can, inside a word where a word alone is too wide. */
function wrapParagraph(paragraph: string, fits: (line: string) => boolean): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(/[ \t]+/).filter(Boolean)) {
    const joined = line === '' ? word : `${line} ${word}`;
    if (fits(joined)) {
      line = joined;
      continue;
    }
    if (line !== '') lines.push(line);
    line = '';
    for (const char of word) {
      if (line !== '' && !fits(line + char)) {
        lines.push(line);
        line = '';
      }
      line += char;
    }
  }
  lines.push(line);
  return lines;
}

/** The largest size from `requested` down to MIN_FONT_PX at which every line fits on its own. */
function shrunkSize(metrics: FontMetrics, paragraphs: string[], requested: number, geometry: Pick<RenderGeometry, 'width'>): number {
  let size = requested;
  while (size > MIN_FONT_PX && paragraphs.some((paragraph) => lineWidth(metrics, paragraph.trim(), size) > roomAt(geometry, size))) size--;
  return size;
}

/**
 * A caption's font, size and lines: the text broken into lines that fit the
 * frame's width (measured with the font's own advance widths), after
 * shrinking it first when the caption asks to, cut (with an ellipsis) to the
 * lines that fit the frame's height.
 */
export function captionLayout(caption: CaptionStyle, geometry: Pick<RenderGeometry, 'width' | 'height'>): CaptionLayout {
  const file = fontFile(captionFamily(caption.text, caption.font, caption.weight), caption.weight);
  const metrics = fontMetrics(file);
  const requested = Math.max(MIN_FONT_PX, Math.round(geometry.height * SIZE_OF_HEIGHT[caption.size]));
  const paragraphs = caption.text.split(/\r\n|\r|\n/);
  const fontSize = caption.overflow === 'shrink' ? shrunkSize(metrics, paragraphs, requested, geometry) : requested;
  const fits = (line: string) => lineWidth(metrics, line, fontSize) <= roomAt(geometry, fontSize);
  const lines = paragraphs.flatMap((paragraph) => wrapParagraph(paragraph, fits));
  const maxLines = Math.max(1, Math.floor((geometry.height * (1 - 2 * MARGIN_OF_HEIGHT)) / (fontSize * LINE_HEIGHT_EM)));
  if (lines.length <= maxLines) return { fontFile: file, fontSize, lines };
  let last = lines[maxLines - 1]!;
  while (last !== '' && !fits(`${last}…`)) last = Array.from(last).slice(0, -1).join('');
  return { fontFile: file, fontSize, lines: [...lines.slice(0, maxLines - 1), `${last}…`] };
}

/** What the caption's text file holds, drawn verbatim (drawtext reads it with expansion off). */
export function captionFileText(layout: CaptionLayout): string {
  const content = layout.lines.join('\n');
  // drawtext refuses an empty text
  return content.trim() === '' ? ' ' : content;
}

/** The drawtext filter of one caption whose text is in `textFile`; nothing in it is the text itself. */
export function captionFilter(caption: PlannedCaption, geometry: RenderGeometry, textFile: string, layout: CaptionLayout): string {
  const { fontSize } = layout;
  const margin = Math.round(geometry.height * MARGIN_OF_HEIGHT);
  const y = { top: String(margin), center: '(h-text_h)/2', bottom: `h-text_h-${margin}` }[caption.position];
  const box: [string, string | number][] =
    caption.boxOpacity > 0
      ? [['box', 1], ['boxcolor', `${ffmpegColor(caption.boxColor)}@${caption.boxOpacity}`], ['boxborderw', boxBorder(fontSize)]]
      : [['box', 0]];
  const options: [string, string | number][] = [
    ['fontfile', layout.fontFile],
    ['textfile', textFile],
    ['expansion', 'none'],
    ['fontsize', fontSize],
    ['fontcolor', ffmpegColor(caption.color)],
    ['line_spacing', Math.round(fontSize * LINE_SPACING_EM)],
    ...box,
    ['x', '(w-text_w)/2'],
    ['y', y],
    ['enable', timeWindow(caption.startS, caption.endS)],
  ];
  return drawtext(options);
}

/** A drawtext filter from its options, each value escaped for the filtergraph. */
export function drawtext(options: readonly [string, string | number][]): string {
  return `drawtext=${options.map(([key, value]) => `${key}=${filterValue(String(value))}`).join(':')}`;
}
