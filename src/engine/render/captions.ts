import type { PlannedCaption, RenderGeometry } from './timeline.ts';
import { ffmpegColor, filterValue } from './filter-escape.ts';

const SIZE_OF_HEIGHT: Record<PlannedCaption['size'], number> = { small: 0.03, medium: 0.042, large: 0.06 };
/** DejaVu Sans averages a little under this many em per character */
const EM_PER_CHAR = 0.6;
const MARGIN_OF_HEIGHT = 0.08;

export interface CaptionLayout {
  fontSize: number;
  maxChars: number;
  maxLines: number;
}

export function captionLayout(caption: Pick<PlannedCaption, 'size'>, geometry: Pick<RenderGeometry, 'width' | 'height'>): CaptionLayout {
  const fontSize = Math.max(8, Math.round(geometry.height * SIZE_OF_HEIGHT[caption.size]));
  return {
    fontSize,
    maxChars: Math.max(4, Math.floor((geometry.width * 0.88) / (fontSize * EM_PER_CHAR))),
    maxLines: Math.max(1, Math.floor((geometry.height * (1 - 2 * MARGIN_OF_HEIGHT)) / (fontSize * 1.3))),
  };
}

function wrapParagraph(paragraph: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line: string[] = [];
  for (const word of paragraph.split(/[ \t]+/).filter(Boolean)) {
    const chars = Array.from(word);
    const fits = line.length === 0 ? chars.length <= maxChars : line.length + 1 + chars.length <= maxChars;
    if (!fits && line.length > 0) {
      lines.push(line.join(''));
      line = [];
    }
    if (line.length > 0) line.push(' ');
    for (const char of chars) {
      if (line.length >= maxChars) {
        lines.push(line.join(''));
        line = [];
      }
      line.push(char);
    }
  }
  lines.push(line.join(''));
  return lines;
}

/**
 * What the caption's text file holds: the text broken into lines that fit the
 * frame's width, cut (with an ellipsis) to the lines that fit its height.
 * Drawn verbatim: drawtext reads it with expansion off.
 */
export function captionFileText(text: string, layout: CaptionLayout): string {
  const lines = text.split(/\r\n|\r|\n/).flatMap((paragraph) => wrapParagraph(paragraph, layout.maxChars));
  const kept = lines.length > layout.maxLines ? [...lines.slice(0, layout.maxLines - 1), `${Array.from(lines[layout.maxLines - 1]!).slice(0, layout.maxChars - 1).join('')}…`] : lines;
  const content = kept.join('\n');
  // drawtext refuses an empty text
  return content.trim() === '' ? ' ' : content;
}

const seconds = (value: number) => String(Number(value.toFixed(6)));

/** The drawtext filter of one caption whose text is in `textFile`; nothing in it depends on the text. */
export function captionFilter(caption: PlannedCaption, geometry: RenderGeometry, textFile: string, fontFile: string): string {
  const { fontSize } = captionLayout(caption, geometry);
  const margin = Math.round(geometry.height * MARGIN_OF_HEIGHT);
  const y = { top: String(margin), center: '(h-text_h)/2', bottom: `h-text_h-${margin}` }[caption.position];
  const options: [string, string | number][] = [
    ['fontfile', fontFile],
    ['textfile', textFile],
    ['expansion', 'none'],
    ['fontsize', fontSize],
    ['fontcolor', ffmpegColor(caption.color)],
    ['line_spacing', Math.round(fontSize * 0.25)],
    ['box', 1],
    ['boxcolor', 'black@0.5'],
    ['boxborderw', Math.round(fontSize * 0.4)],
    ['x', '(w-text_w)/2'],
    ['y', y],
    ['enable', `gte(t,${seconds(caption.startS)})*lt(t,${seconds(caption.endS)})`],
  ];
  return `drawtext=${options.map(([key, value]) => `${key}=${filterValue(String(value))}`).join(':')}`;
}
