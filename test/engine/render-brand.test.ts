import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badgeLayout } from '../../src/engine/render/badge.ts';
import { captionLayout } from '../../src/engine/render/captions.ts';
import { decodeFrames, renderFolder, slideshow, writeImage } from './render-helpers.ts';

const W = 320;
const H = 480;
const BLUE: Rgb = [30, 30, 220];
const YELLOW: Rgb = [250, 200, 0];

type Rgb = [number, number, number];

/** The mean colour of a frame's pixels in [x0, x1) × [y0, y1). */
function meanColour(frame: Buffer, x0: number, y0: number, x1: number, y1: number): Rgb {
  const sums = [0, 0, 0];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sums[c]! += frame[(y * W + x) * 3 + c]!;
  const n = (x1 - x0) * (y1 - y0);
  return sums.map((sum) => sum / n) as Rgb;
}

const distance = (a: Rgb, b: Rgb) => Math.max(...a.map((value, i) => Math.abs(value - b[i]!)));

describe('brand elements, checked on the MP4', () => {
  let folder: Awaited<ReturnType<typeof renderFolder>>;

  beforeAll(async () => {
    folder = await renderFolder();
    await writeImage(path.join(folder.dir, 'blue.png'), W, H, () => BLUE);
    await writeImage(path.join(folder.dir, 'gray.png'), W, H, () => [60, 60, 60]);
    await writeImage(path.join(folder.dir, 'logo.png'), 64, 32, () => YELLOW);
  });
  afterAll(() => folder.close());

  async function firstFrame(picture: string, tracks: unknown[], name: string, pixFmt: 'rgb24' | 'gray' = 'rgb24'): Promise<Buffer> {
    const file = await folder.render(slideshow([{ src: picture, d: 200 }], { width: W, height: H, extraTracks: tracks }), name);
    return (await decodeFrames(file, W, H, pixFmt))[0]!;
  }

  describe('logo', () => {
    const logoTrack = (m: Record<string, unknown>) => ({ tt: 2, sg: [{ s: 0, d: 200, src: 'logo.png', m: { corner: 'bottom-left', size: 0.25, margin: 0.05, ...m } }] });
    // 0.25 × 320 = 80 px wide, so 40 px high; 16 px in from the left and the bottom
    const inside = [24, 432, 88, 456] as const;
    const mirrored = [W - 88, 24, W - 24, 48] as const;

    it('sits in its corner, at its size, in its own colour', async () => {
      const frame = await firstFrame('blue.png', [logoTrack({})], 'logo.mp4');
      expect(distance(meanColour(frame, ...inside), YELLOW)).toBeLessThan(16);
      expect(distance(meanColour(frame, ...mirrored), BLUE)).toBeLessThan(16);
      // the logo ends where its size says: just outside it, the picture
      expect(distance(meanColour(frame, 100, 432, 110, 456), BLUE)).toBeLessThan(16);
      expect(distance(meanColour(frame, 24, 410, 88, 418), BLUE)).toBeLessThan(16);
    });

    it('shows the picture through it at its opacity', async () => {
      const frame = await firstFrame('blue.png', [logoTrack({ opacity: 0.5 })], 'logo-half.mp4');
      const halfway = YELLOW.map((value, i) => (value + BLUE[i]!) / 2) as Rgb;
      expect(distance(meanColour(frame, ...inside), halfway)).toBeLessThan(16);
    });

    it('goes to the corner it is asked for', async () => {
      const frame = await firstFrame('blue.png', [logoTrack({ corner: 'top-right' })], 'logo-top-right.mp4');
      expect(distance(meanColour(frame, W - 88, 24, W - 24, 48), YELLOW)).toBeLessThan(16);
      expect(distance(meanColour(frame, ...inside), BLUE)).toBeLessThan(16);
    });
  });

  describe('badge', () => {
    /** the badge's green, as chroma subsampling leaves it: green well above red and blue */
    const expectGreen = ([r, g, b]: Rgb) => expect(Math.min(g - r, g - b), `${r},${g},${b}`).toBeGreaterThan(100);
    const badge = { text: '-30%', corner: 'top-right', color: '#000000', background: '#00c800', size: 'large' } as const;

    async function badgeFrame(shape: string) {
      const m = { ...badge, shape };
      const frame = await firstFrame('blue.png', [{ tt: 8, sg: [{ s: 0, d: 200, m }] }], `badge-${shape}.mp4`);
      return { frame, layout: badgeLayout({ ...m, shape: m.shape as 'circle', startS: 0, endS: 0.2 }, { width: W, height: H }) };
    }

    it('draws a circle in its colour in the corner, the text on it in its colour', async () => {
      const { frame, layout } = await badgeFrame('circle');
      expect(layout.x + layout.width).toBe(W - Math.round(W * 0.04));
      expect(layout.y).toBe(Math.round(W * 0.04));
      const cx = layout.x + layout.width / 2;
      const cy = layout.y + layout.height / 2;
      const r = layout.width / 2;
      // inside the circle, clear of the text (above it): the badge's colour
      expectGreen(meanColour(frame, Math.round(cx - 3), Math.round(cy - r * 0.8), Math.round(cx + 3), Math.round(cy - r * 0.7)));
      // the bounding box's corner is outside the circle: the picture
      expect(distance(meanColour(frame, layout.x, layout.y, layout.x + 4, layout.y + 4), BLUE)).toBeLessThan(20);
      // the text is black ink on the middle of the badge
      let ink = 0;
      for (let y = Math.round(cy - 10); y < cy + 10; y++) for (let x = Math.round(cx - r / 2); x < cx + r / 2; x++) if (frame[(y * W + x) * 3 + 1]! < 60) ink++;
      expect(ink).toBeGreaterThan(40);
    });

    it('a rectangle fills its corners', async () => {
      const { frame, layout } = await badgeFrame('rectangle');
      expectGreen(meanColour(frame, layout.x + 2, layout.y + 2, layout.x + 6, layout.y + 6));
      expect(distance(meanColour(frame, layout.x - 6, layout.y + 1, layout.x - 2, layout.y + 5), BLUE)).toBeLessThan(20);
    });
  });

  describe('captions', () => {
    const caption = (text: string, m: Record<string, unknown> = {}) => ({ tt: 7, sg: [{ s: 0, d: 200, m: { text, position: 'center', size: 'large', color: '#ffffff', box_opacity: 0, ...m } }] });

    /** How many separate horizontal strokes cross the middle of each of the caption's three glyphs (一, 二, 三: 1, 2, 3). */
    function strokesPerGlyph(frame: Buffer): number[] {
      const isInk = (x: number, y: number) => frame[y * W + x]! > 160;
      const columns = Array.from({ length: W }, (_, x) => x).filter((x) => Array.from({ length: H }, (_, y) => y).some((y) => isInk(x, y)));
      if (columns.length === 0) return [0, 0, 0];
      const [left, right] = [columns[0]!, columns.at(-1)! + 1];
      const cell = (right - left) / 3;
      return [0, 1, 2].map((i) => {
        const [x0, x1] = [Math.round(left + cell * (i + 0.4)), Math.round(left + cell * (i + 0.6))];
        let strokes = 0;
        let inStroke = false;
        for (let y = 0; y < H; y++) {
          const ink = Array.from({ length: x1 - x0 }, (_, k) => x0 + k).some((x) => isInk(x, y));
          if (ink && !inStroke) strokes++;
          inStroke = ink;
        }
        return strokes;
      });
    }

    it('draws Chinese text in a font that has its glyphs when none is named, where DejaVu draws no such glyphs', async () => {
      const automatic = await firstFrame('gray.png', [caption('一二三')], 'cjk.mp4', 'gray');
      expect(strokesPerGlyph(automatic)).toEqual([1, 2, 3]);
      const dejavu = await firstFrame('gray.png', [caption('一二三', { font: 'dejavu-sans' })], 'cjk-dejavu.mp4', 'gray');
      expect(strokesPerGlyph(dejavu)).not.toEqual([1, 2, 3]);
    });

    /** The columns and rows where a caption changed the frame. */
    function changedSpan(frame: Buffer, plain: Buffer): { columns: number[]; rows: number[] } {
      const columns = new Set<number>();
      const rows = new Set<number>();
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (Math.abs(frame[y * W + x]! - plain[y * W + x]!) > 8) {
            columns.add(x);
            rows.add(y);
          }
        }
      }
      return { columns: [...columns].sort((a, b) => a - b), rows: [...rows].sort((a, b) => a - b) };
    }

    it('keeps a long product title, box included, inside the frame: shrunk to one line, or wrapped', async () => {
      const title = 'Organic Cotton Crew-Neck T-Shirt, Relaxed Fit MMWW';
      const plain = await firstFrame('gray.png', [], 'plain.mp4', 'gray');
      const boxed = { box_opacity: 0.8, box_color: '#ffffff' };
      const shrunk = changedSpan(await firstFrame('gray.png', [caption(title, { ...boxed, overflow: 'shrink' })], 'title-shrink.mp4', 'gray'), plain);
      const wrapped = changedSpan(await firstFrame('gray.png', [caption(title, boxed)], 'title-wrap.mp4', 'gray'), plain);
      for (const span of [shrunk, wrapped]) {
        expect(span.columns.length).toBeGreaterThan(W / 2);
        expect(span.columns[0]).toBeGreaterThan(2);
        expect(span.columns.at(-1)).toBeLessThan(W - 3);
      }
      const { fontSize, lines } = captionLayout({ text: title, size: 'large', weight: 'regular', overflow: 'shrink' }, { width: W, height: H });
      expect(lines).toHaveLength(1);
      // one line of the shrunk size (and its box) is all the shrunk caption covers; the wrapped one takes several lines
      expect(shrunk.rows.length).toBeLessThan(fontSize * 2.5);
      expect(wrapped.rows.length).toBeGreaterThan(shrunk.rows.length * 2);
    });
  });
});
