import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSubject, focusFraming, ANALYSIS_SIDE } from '../../src/engine/render/focus.ts';
import { motionPath, windowAt } from '../../src/engine/render/motion.ts';
import { MOTIONS } from '../../src/shared/jobs/draft.ts';
import { decodeFrames, renderFolder, slideshow, writeImage } from './render-helpers.ts';

const W = 180;
const H = 320;
/** the product photo: 3:4, so `cover` into 9:16 crops a quarter of its width away */
const PW = 240;
const PH = 320;
/** the product, a red disc, sits up and to the left */
const PRODUCT = { x: 0.25, y: 0.3 };
const RADIUS = 14;

/** A red disc on a light studio background that shades a little from top to bottom. */
function productPhoto(file: string, at = PRODUCT, width = PW, height = PH): Promise<string> {
  return writeImage(file, width, height, (x, y) => {
    if (Math.hypot(x - at.x * width, y - at.y * height) <= RADIUS) return [220, 30, 30];
    const shade = 236 + (8 * y) / height;
    return [shade, shade, shade];
  });
}

interface Sighting {
  /** the product's centre in output pixels */
  at: [number, number];
  /** how many of its pixels show */
  pixels: number;
  /** whether it touches the frame's edge (so part of it may be cut off) */
  atEdge: boolean;
}

/** The dark product on the light background in each gray frame. */
function sightings(frames: Buffer[]): Sighting[] {
  return frames.map((frame) => {
    let sum = 0;
    let sx = 0;
    let sy = 0;
    let pixels = 0;
    let atEdge = false;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = frame[y * W + x]!;
        if (v >= 160) continue;
        pixels++;
        if (x < 2 || y < 2 || x >= W - 2 || y >= H - 2) atEdge = true;
        const weight = 200 - v;
        sum += weight;
        sx += weight * x;
        sy += weight * y;
      }
    }
    return { at: [sx / sum, sy / sum], pixels, atEdge };
  });
}

const offCentre = ({ at: [x, y] }: Sighting) => Math.hypot(x - W / 2, y - H / 2);

describe('focus: zooms and pans aim at a point of the picture', () => {
  let folder: Awaited<ReturnType<typeof renderFolder>>;

  beforeAll(async () => {
    folder = await renderFolder();
    await productPhoto(path.join(folder.dir, 'product.png'));
    // no plain background: stripes of many colours run into every edge
    await writeImage(path.join(folder.dir, 'busy.png'), PW, PH, (x, y) => [(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256]);
  });
  afterAll(() => folder.close());

  async function watch(m: Record<string, unknown>, name: string, src = 'product.png'): Promise<Sighting[]> {
    const file = await folder.render(slideshow([{ src, d: 1000, m }]), `${name}.mp4`);
    const frames = await decodeFrames(file, W, H);
    expect(frames).toHaveLength(30);
    return sightings(frames);
  }

  const fullProduct = Math.PI * RADIUS * RADIUS * (W / (0.75 * PW)) ** 2;

  // [motion, intensity, whether the centred motion cuts the product off]
  it.each([
    ['zoom-in', 0.3, true],
    ['ken-burns', 0.3, true],
    ['zoom-out', 0.3, true],
    ['pan-left', 0.15, true],
    ['pan-up', 0.15, false],
    ['static', 0, false],
  ] as const)('%s: with the focus on the product (given, or found by auto), it stays whole in every frame and ends nearer the centre than without', async (motion, intensity, cutWithout) => {
    const without = await watch({ motion, intensity }, `${motion}-centre`);
    expect(without.some((seen) => seen.atEdge)).toBe(cutWithout);
    const given = await watch({ motion, intensity, focus: PRODUCT }, `${motion}-given`);
    const auto = await watch({ motion, intensity, focus: 'auto' }, `${motion}-auto`);
    for (const run of [given, auto]) {
      for (const seen of run) {
        expect(seen.atEdge).toBe(false);
        // the whole disc shows, a little larger when zoomed in
        expect(seen.pixels).toBeGreaterThan(fullProduct * 0.8);
      }
      expect(offCentre(run.at(-1)!)).toBeLessThan(offCentre(without.at(-1)!) - 10);
    }
    // auto finds the disc within a pixel of the analysis copy (1/64 of the picture)
    const [gx, gy] = given.at(-1)!.at;
    const [ax, ay] = auto.at(-1)!.at;
    expect(Math.hypot(ax - gx, ay - gy)).toBeLessThan(6);
  });

  it('pans still cross their whole margin along their own axis, aimed across it', async () => {
    const run = await watch({ motion: 'pan-left', intensity: 0.15, focus: PRODUCT }, 'pan-left-travel');
    const [first, last] = [run[0]!.at, run.at(-1)!.at];
    // as the centred pan: the window, 1/1.15 of the picture, crosses 0.15/1.15 of it, shown 1.15× larger
    expect(first[0] - last[0]).toBeGreaterThan(W * 0.15 * 0.9);
    expect(Math.abs(last[1] - first[1])).toBeLessThan(1);
  });

  it('auto keeps to the centre of a picture without a plain background', async () => {
    const file = async (m: Record<string, unknown>, name: string) => decodeFrames(await folder.render(slideshow([{ src: 'busy.png', d: 500, m }]), name), W, H);
    const [centred, auto] = [await file({ motion: 'zoom-in', intensity: 0.3 }, 'busy-centre.mp4'), await file({ motion: 'zoom-in', intensity: 0.3, focus: 'auto' }, 'busy-auto.mp4')];
    expect(auto.length).toBe(centred.length);
    auto.forEach((frame, i) => expect(frame.equals(centred[i]!)).toBe(true));
  });

  it('contain: the zoom aims at the product where the whole picture shows', async () => {
    const without = await watch({ motion: 'zoom-in', intensity: 0.3, fit: 'contain', background: '#eeeeee' }, 'contain-centre');
    const given = await watch({ motion: 'zoom-in', intensity: 0.3, fit: 'contain', background: '#eeeeee', focus: PRODUCT }, 'contain-given');
    expect(offCentre(given.at(-1)!)).toBeLessThan(offCentre(without.at(-1)!) - 10);
    for (const seen of given) expect(seen.atEdge).toBe(false);
  });
});

describe('findSubject', () => {
  const side = ANALYSIS_SIDE;
  /** a yuv420p copy from a per-pixel [y, u, v] function (chroma sampled at each 2×2 block's top-left) */
  function yuv(pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
    const frame = new Uint8Array((side * side * 3) / 2);
    const half = side / 2;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const [l, u, v] = pixel(x, y);
        frame[y * side + x] = l;
        if (x % 2 === 0 && y % 2 === 0) {
          frame[side * side + (y / 2) * half + x / 2] = u;
          frame[side * side + half * half + (y / 2) * half + x / 2] = v;
        }
      }
    }
    return frame;
  }
  const white = [235, 128, 128] as [number, number, number];

  it('finds the largest thing that stands out from a plain background, by its bounding box', () => {
    // a blue box at x 40–55, y 8–19, and a smaller dark speck elsewhere
    const frame = yuv((x, y) => (x >= 40 && x <= 55 && y >= 8 && y <= 19 ? [60, 200, 110] : x >= 10 && x <= 11 && y >= 50 && y <= 51 ? [20, 128, 128] : white));
    const found = findSubject(frame);
    expect(found.x).toBeCloseTo(48 / side, 5);
    expect(found.y).toBeCloseTo(14 / side, 5);
  });

  it('a subject of the background colour but another hue still stands out', () => {
    const frame = yuv((x, y) => (x >= 4 && x <= 13 && y >= 44 && y <= 57 ? [235, 90, 170] : white));
    expect(findSubject(frame)).toEqual({ x: 9 / side, y: 51 / side });
  });

  it('falls back to the centre: no plain border, nothing standing out, or a subject filling the picture', () => {
    const centre = { x: 0.5, y: 0.5 };
    expect(findSubject(yuv((x, y) => [(x * 37 + y * 11) % 256, (x * 13) % 256, (y * 29) % 256]))).toEqual(centre);
    expect(findSubject(yuv(() => white))).toEqual(centre);
    expect(findSubject(yuv((x, y) => (x >= 2 && y >= 2 && x < side - 2 && y < side - 2 ? [40, 128, 128] : white)))).toEqual(centre);
  });
});

describe('focusFraming and aimed motion paths', () => {
  it('a cover crop moves toward the focus but never past the picture’s edge', () => {
    // a 4:3 picture into a square frame keeps 3/4 of its width
    expect(focusFraming('cover', { x: 0.5, y: 0.5 }, 4 / 3, 1)).toEqual({ point: { x: 0.5, y: 0.5 }, crop: { x: 0.5, y: 0.5 } });
    const left = focusFraming('cover', { x: 0.1, y: 0.9 }, 4 / 3, 1);
    expect(left.crop).toEqual({ x: 0, y: 0.5 });
    expect(left.point.x).toBeCloseTo(0.1 / 0.75, 10);
    expect(left.point.y).toBe(0.9);
    const right = focusFraming('cover', { x: 0.6, y: 0.2 }, 4 / 3, 1);
    expect(right.crop!.x).toBeCloseTo((0.6 - 0.375) / 0.25, 10);
    expect(right.point.x).toBeCloseTo(0.5, 10);
  });

  it('contain maps the focus into the picture as it sits in the frame', () => {
    // a 2:1 picture in a square frame fills its width and half its height
    expect(focusFraming('contain', { x: 0.2, y: 0 }, 2, 1)).toEqual({ point: { x: 0.2, y: 0.25 } });
  });

  it('every window of every aimed motion stays inside the picture', () => {
    const aims = [{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 0.1, y: 0.8 }, { x: 0.5, y: 0.5 }];
    for (const motion of MOTIONS) {
      for (const aim of aims) {
        const path = motionPath(motion, 0.3, aim);
        if (!path) continue;
        for (let i = 0; i <= 10; i++) {
          const { cx, cy, size } = windowAt(path, i / 10);
          for (const c of [cx, cy]) {
            expect(c - size / 2).toBeGreaterThanOrEqual(-1e-12);
            expect(c + size / 2).toBeLessThanOrEqual(1 + 1e-12);
          }
        }
      }
    }
  });

  it('zooms end on the aim as near as the margin allows; no aim keeps the old paths', () => {
    expect(motionPath('zoom-in', 0.25, { x: 0.45, y: 0.55 })!.to).toEqual({ cx: 0.45, cy: 0.55, size: 0.8 });
    expect(motionPath('zoom-in', 0.25, { x: 0, y: 1 })!.to).toEqual({ cx: 0.4, cy: 0.6, size: 0.8 });
    const drift = motionPath('ken-burns', 0.25)!.to;
    expect([drift.cx, drift.cy, drift.size].map((v) => v.toFixed(12))).toEqual([0.56, 0.44, 0.8].map((v) => v.toFixed(12)));
  });
});
