import { describe, expect, it } from 'vitest';
import { buildRenderCommand, DraftRenderError, renderGeometry } from '../../src/engine/ffmpeg-args.ts';
import { motionPath, perspectiveFilter } from '../../src/engine/motion.ts';
import { progressReader } from '../../src/engine/renderer.ts';
import { draftSchema, MOTIONS, type Draft, type Motion } from '../../src/shared/draft.ts';

const resolve = (src: string) => `/data/${src}`;

function draftOf(segments: { src: string; s: number; d: number; motion?: Motion }[], d: number, size = { width: 1080, height: 1920 }): Draft {
  return draftSchema.parse({
    t: [{ tt: 0, sg: segments.map(({ src, s, d: sd, motion }) => ({ s, d: sd, src, m: { motion: motion ?? 'zoom-in', intensity: 0.15 } })) }],
    d,
    m: { ...size, fps: 30 },
  });
}

const graphOf = (args: string[]) => args[args.indexOf('-filter_complex') + 1]!;

describe('buildRenderCommand', () => {
  it('decodes an image once, covers the frame, and zooms with sub-pixel perspective, not zoompan', () => {
    const args = buildRenderCommand(draftOf([{ src: 'a.jpg', s: 0, d: 5000 }], 5000), resolve, '/out/x.mp4');
    expect(args).not.toContain('-loop');
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args).toContain('file:/data/a.jpg');
    const graph = graphOf(args);
    expect(graph).toContain('trim=end_frame=1');
    expect(graph).toContain('loop=loop=149:size=1');
    expect(graph).toContain('force_original_aspect_ratio=increase');
    expect(graph).toContain('crop=1080:1920');
    expect(graph).toMatch(/perspective=.*eval=frame/);
    expect(graph).not.toContain('zoompan');
    // a filtergraph option value may not hold an unescaped comma
    expect(graph.slice(graph.indexOf('perspective='), graph.indexOf('[v0]'))).not.toContain(',');
  });

  it('asks for H.264 High, yuv420p, BT.709, faststart and the exact frame count', () => {
    const args = buildRenderCommand(draftOf([{ src: 'a.png', s: 0, d: 2000 }], 2000), resolve, '/out/x.mp4');
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect([after('-c:v'), after('-profile:v'), after('-pix_fmt'), after('-preset'), after('-crf')]).toEqual(['libx264', 'high', 'yuv420p', 'veryfast', '20']);
    expect([after('-colorspace'), after('-color_primaries'), after('-color_trc'), after('-color_range')]).toEqual(['bt709', 'bt709', 'bt709', 'tv']);
    expect([after('-movflags'), after('-frames:v'), after('-t'), after('-progress')]).toEqual(['+faststart', '60', '2', 'pipe:1']);
    expect(args.slice(0, 2)).toEqual(['-nostdin', '-y']);
    expect(args).toContain('-nostats');
    expect(args.at(-1)).toBe('file:/out/x.mp4');
  });

  it('concatenates segments in timeline order, each holding until the next starts', () => {
    const args = buildRenderCommand(
      draftOf([{ src: 'b.jpg', s: 2000, d: 1000 }, { src: 'a.jpg', s: 0, d: 1500 }, { src: 'c.mp4', s: 4000, d: 1000, motion: 'static' }], 5000),
      resolve,
      'x.mp4',
    );
    expect(args.filter((a) => a.startsWith('file:/data/'))).toEqual(['file:/data/a.jpg', 'file:/data/b.jpg', 'file:/data/c.mp4']);
    const graph = graphOf(args);
    expect(graph).toContain('[0:v]trim=end_frame=1');
    expect(graph).toContain('loop=loop=59:size=1'); // a: 0–2 s
    expect(graph).toContain('tpad=stop=-1:stop_mode=clone,trim=end_frame=30'); // the video c: 4–5 s, padded if short
    expect(graph).toContain('[v0][v1][v2]concat=n=3:v=1:a=0[out]');
    expect(graph.split(';')[2]).not.toContain('perspective'); // static
  });

  it('rounds odd sizes down to even ones', () => {
    expect(renderGeometry(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000, { width: 721, height: 1279 }))).toMatchObject({ width: 720, height: 1278, frames: 30 });
  });

  it('refuses drafts it cannot render', () => {
    expect(() => buildRenderCommand(draftOf([], 1000), resolve, 'x.mp4')).toThrow(DraftRenderError);
    expect(() => buildRenderCommand(draftOf([{ src: 'song.mp3', s: 0, d: 1000 }], 1000), resolve, 'x.mp4')).toThrow(/not an image or a video/);
    const unknown = () => {
      throw new DraftRenderError('unknown src');
    };
    expect(() => buildRenderCommand(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000), unknown, 'x.mp4')).toThrow('unknown src');
  });
});

describe('motion paths', () => {
  it('keep the window inside the picture at both ends', () => {
    for (const motion of MOTIONS) {
      const path = motionPath(motion, 0.3);
      if (motion === 'static') {
        expect(path).toBeUndefined();
        continue;
      }
      for (const w of [path!.from, path!.to]) {
        expect(w.cx - w.size / 2).toBeGreaterThanOrEqual(-1e-9);
        expect(w.cx + w.size / 2).toBeLessThanOrEqual(1 + 1e-9);
        expect(w.cy - w.size / 2).toBeGreaterThanOrEqual(-1e-9);
        expect(w.cy + w.size / 2).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
  });

  it('zoom-in starts on the whole frame (perspective counts frames from 1)', () => {
    const filter = perspectiveFilter(motionPath('zoom-in', 0.15)!, 150);
    expect(filter).toContain('(in-1)/149');
    expect(filter).toMatch(/^perspective=x0=W\*\(0\.5-exp\(\(-0\.13\d+\*\(in-1\)\/149\)\)\/2\)/);
  });
});

describe('progressReader', () => {
  it('turns out_time lines, even split across chunks, into fractions of the duration', () => {
    const seen: number[] = [];
    const read = progressReader(4, (f) => seen.push(f));
    read('frame=10\nout_time_us=1000');
    read('000\nout_time_ms=2000000\nout_time_us=N/A\n');
    read('out_time_us=9000000\nprogress=end\n');
    expect(seen).toEqual([0.25, 0.5, 1, 1]);
  });
});
