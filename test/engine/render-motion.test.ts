import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames, dotsImage, ffmpegBytes, renderFolder, slideshow, smoothness, track } from './render-helpers.ts';

const W = 180;
const H = 320;
const CENTRE: [number, number] = [0.5, 0.5];
const CORNERS: [number, number][] = [[0.25, 0.3], [0.75, 0.3], [0.25, 0.7], [0.75, 0.7]];

describe('motion', () => {
  let folder: Awaited<ReturnType<typeof renderFolder>>;

  beforeAll(async () => {
    folder = await renderFolder();
    // the photo has the frame's shape, so `cover` shows all of it
    await dotsImage(path.join(folder.dir, 'dots.png'), W * 2, H * 2, [CENTRE, ...CORNERS], 8);
  });
  afterAll(() => folder.close());

  /** Where each dot is in the first and the last frame, in output pixels. */
  async function dotTravel(motion: string, intensity = 0.3) {
    const file = await folder.render(slideshow([{ src: 'dots.png', d: 1000, m: { motion, intensity } }]), `${motion}.mp4`);
    const frames = await decodeFrames(file, W, H);
    expect(frames).toHaveLength(30);
    return [CENTRE, ...CORNERS].map(([fx, fy]) => {
      const path = track(frames, W, H, [fx * W, fy * H], 14);
      return { first: path[0]!, last: path.at(-1)! };
    });
  }

  const spread = (points: [number, number][]) => {
    const [cx, cy] = points[0]!;
    return points.slice(1).reduce((sum, [x, y]) => sum + Math.hypot(x - cx, y - cy), 0) / (points.length - 1);
  };

  it('zoom-in enlarges the picture about its centre by 1 + intensity; zoom-out shrinks it back', async () => {
    for (const [motion, ratio] of [['zoom-in', 1.3], ['zoom-out', 1 / 1.3]] as const) {
      const dots = await dotTravel(motion);
      expect(spread(dots.map((d) => d.last)) / spread(dots.map((d) => d.first))).toBeCloseTo(ratio, 1);
      // the centre stays put
      expect(Math.hypot(dots[0]!.last[0] - dots[0]!.first[0], dots[0]!.last[1] - dots[0]!.first[1])).toBeLessThan(0.5);
    }
  });

  it('pans move the picture the way they are named, without zooming', async () => {
    const directions = { 'pan-left': [-1, 0], 'pan-right': [1, 0], 'pan-up': [0, -1], 'pan-down': [0, 1] } as const;
    for (const [motion, [sx, sy]] of Object.entries(directions)) {
      const dots = await dotTravel(motion, 0.15);
      for (const { first, last } of dots) {
        const [dx, dy] = [last[0] - first[0], last[1] - first[1]];
        // the window, 1/1.15 of the picture, crosses the whole margin: 0.15/1.15 of the side, shown 1.15× larger
        const expected = (sx !== 0 ? W : H) * 0.15;
        expect(sx * dx + sy * dy, motion).toBeGreaterThan(expected * 0.9);
        expect(Math.abs(sx !== 0 ? dy : dx), motion).toBeLessThan(0.5);
      }
      expect(spread(dots.map((d) => d.last)) / spread(dots.map((d) => d.first))).toBeCloseTo(1, 2);
    }
  });

  it('ken-burns zooms in while the picture drifts down and left; static does not move', async () => {
    const kenBurns = await dotTravel('ken-burns');
    expect(spread(kenBurns.map((d) => d.last)) / spread(kenBurns.map((d) => d.first))).toBeCloseTo(1.3, 1);
    const centre = kenBurns[0]!;
    expect(centre.last[0] - centre.first[0]).toBeLessThan(-5);
    expect(centre.last[1] - centre.first[1]).toBeGreaterThan(5);

    const still = await dotTravel('static');
    for (const { first, last } of still) expect(Math.hypot(last[0] - first[0], last[1] - first[1])).toBeLessThan(0.05);
  });

  describe('smoothness: a tracked dot never steps back and barely accelerates', () => {
    /** the corner dot's path through a 2 s render */
    async function cornerPath(motion: string, intensity: number) {
      const file = await folder.render(slideshow([{ src: 'dots.png', d: 2000, m: { motion, intensity } }]), `smooth-${motion}.mp4`);
      return track(await decodeFrames(file, W, H), W, H, [0.75 * W, 0.3 * H], 14);
    }

    it.each([['zoom-in', 0.15], ['pan-left', 0.15]] as const)('%s', async (motion, intensity) => {
      const result = smoothness(await cornerPath(motion, intensity));
      expect(result.backwardSteps).toBe(0);
      expect(result.meanAcceleration).toBeLessThanOrEqual(0.05);
    });

    it("catches zoompan's whole-pixel stair-steps (the tracker can tell)", async () => {
      const file = path.join(folder.dir, 'zoompan.mp4');
      await ffmpegBytes([
        '-i', path.join(folder.dir, 'dots.png'),
        '-vf', `scale=${W}:${H},zoompan=z='1+0.15*on/59':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=60:s=${W}x${H}:fps=30`,
        '-frames:v', '60', '-c:v', 'libx264', '-crf', '20', '-pix_fmt', 'yuv420p', '-y', file,
      ]);
      const result = smoothness(track(await decodeFrames(file, W, H), W, H, [0.75 * W, 0.3 * H], 14));
      expect(result.backwardSteps > 0 || result.meanAcceleration > 0.05).toBe(true);
    });
  });
});
