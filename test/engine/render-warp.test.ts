import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameWarper, samplePoint, windowMaps, yuv420Bytes, type AxisMap, type Size } from '../../src/engine/render/frame-warper.ts';
import { motionPath, sourceScale, windowAt, type ViewWindow } from '../../src/engine/render/motion.ts';
import { MOTIONS } from '../../src/shared/jobs/draft.ts';

/** The kernel's arithmetic, one pixel at a time, in plain JavaScript. */
function referencePlane(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, x: AxisMap, y: AxisMap): Uint8Array {
  const out = new Uint8Array(dw * dh);
  for (let row = 0; row < dh; row++) {
    const [iy, fy] = samplePoint(y.scale * row + y.offset, sh);
    for (let col = 0; col < dw; col++) {
      const [ix, fx] = samplePoint(x.scale * col + x.offset, sw);
      const at = (r: number, c: number) => src[r * sw + c]!;
      const vertical = (c: number) => (at(iy, c) * (256 - fy) + at(iy + 1, c) * fy + 128) >> 8;
      out[row * dw + col] = (vertical(ix) * (256 - fx) + vertical(ix + 1) * fx + 128) >> 8;
    }
  }
  return out;
}

function referenceFrame(src: Uint8Array, source: Size, output: Size, window: ViewWindow): Uint8Array {
  const maps = windowMaps(window, source, output);
  const luma = source.width * source.height;
  const outLuma = output.width * output.height;
  const [cw, ch, ow, oh] = [source.width / 2, source.height / 2, output.width / 2, output.height / 2];
  return Buffer.concat([
    referencePlane(src.subarray(0, luma), source.width, source.height, output.width, output.height, ...maps.luma),
    referencePlane(src.subarray(luma, luma + luma / 4), cw, ch, ow, oh, ...maps.chroma),
    referencePlane(src.subarray(luma + luma / 4), cw, ch, ow, oh, ...maps.chroma),
  ]).subarray(0, outLuma * 1.5);
}

const even = (n: number) => n * 2;

describe('FrameWarper', () => {
  it('matches the plain bilinear reference bit for bit, for any size and window on every motion path', () => {
    fc.assert(
      fc.property(
        fc.record({
          w: fc.integer({ min: 8, max: 70 }).map(even),
          h: fc.integer({ min: 8, max: 50 }).map(even),
          motion: fc.constantFrom(...MOTIONS.filter((m) => m !== 'static')),
          intensity: fc.double({ min: 0.01, max: 1, noNaN: true }),
          progress: fc.double({ min: 0, max: 1, noNaN: true }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ w, h, motion, intensity, progress, seed }) => {
          const path = motionPath(motion, intensity)!;
          const scale = sourceScale(path);
          const source = { width: even(Math.round((w * scale) / 2)), height: even(Math.round((h * scale) / 2)) };
          const output = { width: w, height: h };
          const warper = new FrameWarper(source, output, 2);
          let state = seed;
          const picture = warper.sourceFrame;
          for (let i = 0; i < picture.length; i++) {
            state = (state * 1103515245 + 12345) >>> 0;
            picture[i] = state >>> 24;
          }
          const window = windowAt(path, progress);
          const expected = referenceFrame(picture, source, output, window);
          expect(warper.warp(window, 1).equals(expected)).toBe(true);
          expect(warper.warp(window, 0).length).toBe(yuv420Bytes(output));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shows the whole picture unchanged for the full window at scale 1', () => {
    const size = { width: 48, height: 32 };
    const warper = new FrameWarper(size, size, 1);
    warper.sourceFrame.forEach((_, i, all) => (all[i] = (i * 37) & 255));
    const copy = Buffer.from(warper.sourceFrame);
    expect(warper.warp({ cx: 0.5, cy: 0.5, size: 1 }, 0).equals(copy)).toBe(true);
  });
});

describe('sourceScale', () => {
  it('prepares a zoomed picture at the closest view, but never shrinks by more than 1.2', () => {
    expect(sourceScale(undefined)).toBe(1);
    expect(sourceScale(motionPath('zoom-in', 0.15))).toBeCloseTo(1.15);
    expect(sourceScale(motionPath('pan-left', 0.15))).toBeCloseTo(1.15);
    expect(sourceScale(motionPath('zoom-in', 1))).toBeCloseTo(1.2);
  });
});
