import { closeSync, openSync, readSync } from 'node:fs';

/**
 * How wide a font draws a text, read from the font file itself (TrueType or
 * OpenType, a collection's first face, which is also the face drawtext
 * loads): its character map and advance widths, no shaping or kerning. Only
 * the tables needed are read, so a 20 MB CJK collection costs a few hundred KB.
 */
export interface FontMetrics {
  /** whether the font has a glyph for this code point */
  has(codePoint: number): boolean;
  /** the width of `text` on one line at a font size of 1 px */
  width(text: string): number;
}

class FontFile {
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }
  read(offset: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    const got = readSync(this.fd, buffer, 0, length, offset);
    if (got < length) throw new Error(`${this.path}: truncated at ${offset + got}`);
    return buffer;
  }
  close(): void {
    closeSync(this.fd);
  }
}

function tableDirectory(file: FontFile): Map<string, { offset: number; length: number }> {
  let start = 0;
  if (file.read(0, 4).toString('latin1') === 'ttcf') start = file.read(12, 4).readUInt32BE(0);
  const count = file.read(start + 4, 2).readUInt16BE(0);
  const records = file.read(start + 12, count * 16);
  const tables = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < count; i++) {
    tables.set(records.toString('latin1', i * 16, i * 16 + 4), { offset: records.readUInt32BE(i * 16 + 8), length: records.readUInt32BE(i * 16 + 12) });
  }
  return tables;
}

type GlyphOf = (codePoint: number) => number;

/** Format 12: sorted groups of consecutive code points. */
function segmentedCoverage(table: Buffer): GlyphOf {
  const groups = table.readUInt32BE(12);
  return (codePoint) => {
    let lo = 0;
    let hi = groups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = 16 + mid * 12;
      if (codePoint < table.readUInt32BE(at)) hi = mid - 1;
      else if (codePoint > table.readUInt32BE(at + 4)) lo = mid + 1;
      else return table.readUInt32BE(at + 8) + codePoint - table.readUInt32BE(at);
    }
    return 0;
  };
}

/** Format 4: segments of the Basic Multilingual Plane. */
function segmentMapping(table: Buffer): GlyphOf {
  const segments = table.readUInt16BE(6) / 2;
  const ends = 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    for (let i = 0; i < segments; i++) {
      if (codePoint > table.readUInt16BE(ends + i * 2)) continue;
      const start = table.readUInt16BE(starts + i * 2);
      if (codePoint < start) return 0;
      const delta = table.readUInt16BE(deltas + i * 2);
      const rangeOffset = table.readUInt16BE(rangeOffsets + i * 2);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const at = rangeOffsets + i * 2 + rangeOffset + (codePoint - start) * 2;
      const glyph = at + 2 <= table.length ? table.readUInt16BE(at) : 0;
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

/** The Unicode map: a full-repertoire (format 12) subtable when there is one, else a BMP (format 4) one. */
function characterMap(file: FontFile, cmap: { offset: number; length: number }): GlyphOf {
  const table = file.read(cmap.offset, cmap.length);
  const subtables = Array.from({ length: table.readUInt16BE(2) }, (_, i) => ({
    platform: table.readUInt16BE(4 + i * 8),
    encoding: table.readUInt16BE(6 + i * 8),
    offset: table.readUInt32BE(8 + i * 8),
  })).filter(({ platform, encoding }) => platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10)));
  const withFormat = subtables.map((sub) => ({ ...sub, format: table.readUInt16BE(sub.offset) }));
  const full = withFormat.find((sub) => sub.format === 12);
  if (full) return segmentedCoverage(table.subarray(full.offset, full.offset + table.readUInt32BE(full.offset + 4)));
  const bmp = withFormat.find((sub) => sub.format === 4);
  if (bmp) return segmentMapping(table.subarray(bmp.offset, bmp.offset + table.readUInt16BE(bmp.offset + 2)));
  throw new Error(`${file.path}: no Unicode character map`);
}

function readMetrics(path: string): FontMetrics {
  const file = new FontFile(path);
  try {
    const tables = tableDirectory(file);
    const table = (tag: string) => {
      const found = tables.get(tag);
      if (!found) throw new Error(`${path}: no ${tag} table`);
      return found;
    };
    const unitsPerEm = file.read(table('head').offset + 18, 2).readUInt16BE(0);
    const longMetrics = file.read(table('hhea').offset + 34, 2).readUInt16BE(0);
    const hmtx = file.read(table('hmtx').offset, longMetrics * 4);
    const glyphOf = characterMap(file, table('cmap'));
    const advance = (glyph: number) => hmtx.readUInt16BE(Math.min(glyph, longMetrics - 1) * 4) / unitsPerEm;
    return {
      has: (codePoint) => glyphOf(codePoint) !== 0,
      width: (text) => {
        let sum = 0;
        for (const char of text) sum += advance(glyphOf(char.codePointAt(0)!));
        return sum;
      },
    };
  } finally {
    file.close();
  }
}

const cache = new Map<string, FontMetrics>();

/** The metrics of a font file, read once per process. */
export function fontMetrics(path: string): FontMetrics {
  let metrics = cache.get(path);
  if (!metrics) {
    metrics = readMetrics(path);
    cache.set(path, metrics);
  }
  return metrics;
}

/** A line's width at `px`, in whole pixels per glyph rounded up: drawtext places glyphs at hinted, rounded advances. */
export function lineWidth(metrics: FontMetrics, line: string, px: number): number {
  let sum = 0;
  for (const char of line) sum += Math.ceil(metrics.width(char) * px);
  return sum;
}

/** The code points of `text` a font has no glyph for (spaces and control characters never count). */
export function missingGlyphs(metrics: FontMetrics, text: string): number {
  let missing = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (!/[\s\p{Cc}\p{Cf}]/u.test(char) && !metrics.has(codePoint)) missing++;
  }
  return missing;
}
