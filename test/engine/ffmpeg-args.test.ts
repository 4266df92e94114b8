import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRenderCommand, checkRenderable, DraftRenderError, renderGeometry, renderGraph } from '../../src/engine/render/ffmpeg-args.ts';
import { motionPath, windowAt } from '../../src/engine/render/motion.ts';
import { captionFileText, captionLayout } from '../../src/engine/render/captions.ts';
import { decoderArgs, preparedSize } from '../../src/engine/render/frame-source.ts';
import { ffmpegColor, filterValue } from '../../src/engine/render/filter-escape.ts';
import { planRender } from '../../src/engine/render/timeline.ts';
import { streamPieces } from '../../src/engine/render/transitions.ts';
import { draftSchema, MOTIONS, type Draft } from '../../src/shared/jobs/draft.ts';
import { progressReader } from '../../src/engine/render/renderer.ts';
import { vbvMaxKbps } from '../../src/engine/render/encoder.ts';

const resolve = (src: string) => `/data/${src}`;
const files = { outPath: '/out/x.mp4', captionFiles: ['/tmp/c0.txt', '/tmp/c1.txt'] };

function draftOf(segments: { src: string; s: number; d: number; m?: Record<string, unknown> }[], d: number, extra: { tracks?: unknown[]; m?: Record<string, unknown> } = {}): Draft {
  return draftSchema.parse({
    t: [{ tt: 0, sg: segments.map(({ src, s, d: sd, m }) => ({ s, d: sd, src, m: { motion: 'zoom-in', intensity: 0.15, ...m } })) }, ...(extra.tracks ?? [])],
    d,
    m: { width: 1080, height: 1920, fps: 30, ...extra.m },
  });
}

const commandOf = (draft: Draft) => buildRenderCommand(planRender(draft, resolve), files);
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const graphOf = (args: string[]) => after(args, '-filter_complex')!;

describe('buildRenderCommand', () => {
  it('reads the moving frames as raw yuv420p from fd 3 and asks for H.264 High, BT.709, faststart', () => {
    const args = commandOf(draftOf([{ src: 'a.jpg', s: 0, d: 2000 }], 2000));
    expect(args.slice(args.indexOf('-f'), args.indexOf('-i') + 2)).toEqual(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '1080x1920', '-framerate', '30', '-protocol_whitelist', 'pipe', '-i', 'pipe:3']);
    expect(args).not.toContain('-loop');
    expect(args).not.toContain('file:/data/a.jpg'); // photos are decoded by the renderer, once
    expect([after(args, '-c:v'), after(args, '-profile:v'), after(args, '-pix_fmt'), after(args, '-preset'), after(args, '-crf')]).toEqual(['libx264', 'high', 'yuv420p', 'veryfast', '20']);
    expect([after(args, '-colorspace'), after(args, '-color_primaries'), after(args, '-color_trc'), after(args, '-color_range')]).toEqual(['bt709', 'bt709', 'bt709', 'tv']);
    expect([after(args, '-movflags'), after(args, '-progress')]).toEqual(['+faststart', 'pipe:1']);
    // the stream holds exactly the frames the timeline needs; -frames:v would also cut the audio short
    expect(args).not.toContain('-frames:v');
    expect(args).toContain('-an');
    expect(args.slice(0, 2)).toEqual(['-nostdin', '-y']);
    expect(args.at(-1)).toBe('file:/out/x.mp4');
    expect(graphOf(args)).toBe('[0:v]null[timeline];[timeline]null[vout]');
  });

  it('can hand over the finished frames raw instead of encoding them (the benchmark measures x264 alone on them)', () => {
    const music = { tt: 1, sg: [{ s: 0, d: 1000, src: 'song.mp3', m: {} }] };
    const args = buildRenderCommand(planRender(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000, { tracks: [music] }), resolve), { ...files, rawFrames: true });
    expect(args.slice(-6)).toEqual(['-an', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'file:/out/x.mp4']);
    expect(args).not.toContain('libx264');
    expect(args).not.toContain('file:/data/song.mp3');
  });

  it('quality high uses a slower preset', () => {
    const args = commandOf(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000, { m: { quality: 'high' } }));
    expect([after(args, '-preset'), after(args, '-crf')]).toEqual(['slow', '22']);
  });

  it("a platform preset's encoding rules: a closed GOP of its length, no scene-cut keyframes, the bitrate cap as VBV, constant frame rate, AAC at its rate in stereo", () => {
    const music = { tt: 1, sg: [{ s: 0, d: 2000, src: 'song.mp3', m: {} }] };
    const encoding = { platform: 'youtube', gop_s: 0.5, max_kbps: 8000, audio_hz: 48000 };
    const args = commandOf(draftOf([{ src: 'a.jpg', s: 0, d: 2000 }], 2000, { tracks: [music], m: { fps: 60, encoding } }));
    expect([after(args, '-g'), after(args, '-keyint_min'), after(args, '-sc_threshold'), after(args, '-flags'), after(args, '-bf')]).toEqual(['30', '30', '0', '+cgop', '2']);
    // 2 s at most 8000 kbit/s: the rate leaves room for the buffer's initial half second
    expect([after(args, '-maxrate'), after(args, '-bufsize'), after(args, '-x264-params'), after(args, '-fps_mode')]).toEqual(['6400k', '6400k', 'vbv-init=0.5', 'cfr']);
    expect([after(args, '-c:a'), after(args, '-ar'), after(args, '-ac')]).toEqual(['aac', '48000', '2']);
    expect(after(args, '-movflags')).toBe('+faststart');
    const plain = commandOf(draftOf([{ src: 'a.jpg', s: 0, d: 2000 }], 2000, { tracks: [music] }));
    for (const flag of ['-g', '-maxrate', '-sc_threshold', '-ar']) expect(plain).not.toContain(flag);
  });

  it('the VBV rate keeps a whole clip at or under the cap: initial buffer plus rate × length, for any length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 100000 }), fc.double({ min: 0.04, max: 60, noNaN: true }), (cap, seconds) => {
        const rate = vbvMaxKbps(cap, seconds);
        expect(rate * 0.5 + rate * seconds).toBeLessThanOrEqual(cap * seconds + 1e-6);
        expect(rate).toBeGreaterThan(0);
      }),
    );
  });

  it('rounds odd sizes down to even ones', () => {
    expect(renderGeometry(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000, { m: { width: 721, height: 1279 } }))).toMatchObject({ width: 720, height: 1278, frames: 30 });
  });

  it('refuses drafts it cannot render', () => {
    expect(() => checkRenderable(draftOf([], 1000), resolve)).toThrow(DraftRenderError);
    expect(() => checkRenderable(draftOf([{ src: 'song.mp3', s: 0, d: 1000 }], 1000), resolve)).toThrow(/not an image or a video/);
    const unknown = () => {
      throw new DraftRenderError('unknown src');
    };
    expect(() => checkRenderable(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000), unknown)).toThrow('unknown src');
    const music = { tt: 1, sg: [{ s: 0, d: 1000, src: 'notes.txt', m: {} }] };
    expect(() => checkRenderable(draftOf([{ src: 'a.jpg', s: 0, d: 1000 }], 1000, { tracks: [music] }), resolve)).toThrow(/not an audio/);
  });
});

describe('the timeline in frames', () => {
  it('orders pictures by start; each holds the screen until the next starts', () => {
    const plan = planRender(draftOf([{ src: 'b.jpg', s: 2000, d: 1000 }, { src: 'a.jpg', s: 0, d: 1500 }, { src: 'c.mp4', s: 4000, d: 1000, m: { motion: 'static', in: 1500 } }], 5000), resolve);
    expect(plan.videos.map((v) => [v.path, v.kind, v.frames])).toEqual([['/data/a.jpg', 'image', 60], ['/data/b.jpg', 'image', 60], ['/data/c.mp4', 'video', 30]]);
    expect(plan.videos[2]).toMatchObject({ motion: undefined, inS: 1.5 });
    expect(streamPieces(plan.videos)).toEqual([{ kind: 'range', start: 0, end: 150 }]);
  });

  it('a transition overlaps the previous picture by its length, and only its frames go through xfade', () => {
    // 2 s + 2 s with a 0.5 s fade: 3.5 s
    const draft = draftOf([{ src: 'a.jpg', s: 0, d: 2000 }, { src: 'b.jpg', s: 1500, d: 2000, m: { transition: { type: 'slideup', d: 500 } } }], 3500);
    const plan = planRender(draft, resolve);
    expect(plan.videos.map((v) => [v.frames, v.transitionIn])).toEqual([[60, undefined], [60, { type: 'slideup', frames: 15 }]]);
    expect(streamPieces(plan.videos)).toEqual([
      { kind: 'range', start: 0, end: 45 },
      // the 15 frames of each side, alternating
      { kind: 'transition', type: 'slideup', start: 45, end: 75 },
      { kind: 'range', start: 75, end: 120 },
    ]);
    const graph = graphOf(buildRenderCommand(plan, files));
    expect(graph).toContain('[0:v]segment=frames=45|75[s0][s1][s2]');
    expect(graph).toContain(String.raw`[s1]select=outputs=2:expr=1+mod(n\,2)[a1][b1];[a1]setpts=N/(30*TB),extractplanes=y+u+v[fromy1][fromu1][fromv1];`);
    for (const plane of 'yuv') expect(graph).toContain(`[from${plane}1][to${plane}1]xfade=transition=slideup:duration=0.5:offset=0[x${plane}1]`);
    expect(graph).toContain('[xy1][xu1][xv1]mergeplanes=0x001020:yuv420p[p1]');
    expect(graph).toContain('[p0][p1][p2]concat=n=3:v=1:a=0,setpts=N/(30*TB)[timeline]');
  });

  it('shortens a transition that would leave a picture no frame of its own; none is a cut', () => {
    const draft = draftOf([
      { src: 'a.jpg', s: 0, d: 1000 },
      { src: 'b.jpg', s: 500, d: 1000, m: { transition: { type: 'fade', d: 5000 } } },
      { src: 'c.jpg', s: 1500, d: 500, m: { transition: { type: 'none', d: 300 } } },
    ], 2000);
    const plan = planRender(draft, resolve);
    expect(plan.videos.map((v) => v.transitionIn?.frames)).toEqual([undefined, 29, undefined]);
    expect(plan.videos.reduce((sum, v) => sum + v.frames - (v.transitionIn?.frames ?? 0), 0)).toBe(plan.geometry.frames);
  });

  it('keeps the frame count exact for any timeline', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3000 }), transition: fc.integer({ min: 0, max: 4000 }) }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 20_000 }),
        (segments, total) => {
          let s = 0;
          const draft = draftOf(segments.map(({ gap, transition }, i) => {
            s += i === 0 ? 0 : gap;
            return { src: `${i}.jpg`, s, d: 1000, m: { transition: { type: 'fade', d: transition } } };
          }), total);
          const plan = planRender(draft, resolve);
          const pieces = streamPieces(plan.videos);
          const shown = pieces.reduce((sum, p) => sum + (p.kind === 'range' ? p.end - p.start : (p.end - p.start) / 2), 0);
          expect(shown).toBe(plan.geometry.frames);
          for (const p of pieces) expect(p.end).toBeGreaterThan(p.start);
          expect(pieces.at(-1)!.end).toBe(plan.videos.reduce((sum, v) => sum + v.frames, 0));
        },
      ),
    );
  });
});

describe('decoding', () => {
  it('decodes a photo once, at the size its motion needs, fitted as asked', () => {
    const plan = planRender(draftOf([{ src: 'a.jpg', s: 0, d: 1000, m: { fit: 'contain', background: '#1a2' } }], 1000), resolve);
    const video = plan.videos[0]!;
    const size = preparedSize(video, plan.geometry);
    expect(size).toEqual({ width: 1242, height: 2208 });
    const args = decoderArgs(video, size, 30);
    expect(args).not.toContain('-loop');
    expect(after(args, '-frames:v')).toBe('1');
    expect(after(args, '-vf')).toContain('pad=1242:2208:(ow-iw)/2:(oh-ih)/2:color=0x11AA22');
  });

  it('decodes a video from m.in at the output rate', () => {
    const plan = planRender(draftOf([{ src: 'c.webm', s: 0, d: 1000, m: { motion: 'static', in: 2500 } }], 1000), resolve);
    const args = decoderArgs(plan.videos[0]!, plan.geometry, 30);
    expect(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 6)).toEqual(['-ss', '2.5', '-protocol_whitelist', 'file', '-i', 'file:/data/c.webm']);
    expect(after(args, '-vf')).toMatch(/^fps=30,crop=w=min\(iw\\,ih\*1080\/1920\):h=min\(ih\\,iw\*1920\/1080\),scale=1080:1920:/);
    expect(after(args, '-frames:v')).toBe('30');
  });
});

describe('music', () => {
  it('loops, sets the volume, fades out, places and pads each track to the video; AAC 128k', () => {
    const music = { tt: 1, sg: [{ s: 500, d: 3000, src: 'song.mp3', m: { volume: 0.4, fade_out: 800 } }, { s: 0, d: 1000, src: 'fx.wav', m: { loop: false, fade_out: 0 } }] };
    const args = commandOf(draftOf([{ src: 'a.jpg', s: 0, d: 3000 }], 3000, { tracks: [music] }));
    expect(args.slice(args.indexOf('pipe:3') + 1, args.indexOf('-filter_complex'))).toEqual([
      '-stream_loop', '-1', '-protocol_whitelist', 'file', '-i', 'file:/data/song.mp3', '-protocol_whitelist', 'file', '-i', 'file:/data/fx.wav',
    ]);
    const graph = graphOf(args);
    expect(graph).toContain('[1:a]atrim=duration=2.5,asetpts=PTS-STARTPTS,aformat=sample_rates=48000:channel_layouts=stereo,volume=0.4,afade=t=out:st=1.7:d=0.8,adelay=delays=500:all=1[a0]');
    expect(graph).toContain('[2:a]atrim=duration=1,asetpts=PTS-STARTPTS,aformat=sample_rates=48000:channel_layouts=stereo,volume=0.35[a1]');
    expect(graph).toContain('[a0][a1]amix=inputs=2:duration=longest:normalize=0,apad=whole_dur=3,atrim=duration=3[aout]');
    expect(args.slice(args.indexOf('-map'), args.indexOf('-map') + 4)).toEqual(['-map', '[vout]', '-map', '[aout]']);
    expect([after(args, '-c:a'), after(args, '-b:a')]).toEqual(['aac', '128k']);
    expect(args).not.toContain('-an');
  });
});

describe('captions', () => {
  const withCaption = (m: Record<string, unknown>, s = 500, d = 1000) =>
    draftOf([{ src: 'a.jpg', s: 0, d: 2000 }], 2000, { tracks: [{ tt: 7, sg: [{ s, d, m }] }] });

  it('draws the text from its file, never expanded, in its time window, where and how big it was asked', () => {
    const graph = graphOf(commandOf(withCaption({ text: 'Hi', position: 'top', size: 'large', color: '#ff0' })));
    const drawtext = graph.slice(graph.indexOf('drawtext='), graph.indexOf('[vout]'));
    expect(drawtext).toContain(String.raw`box=1:boxcolor=0x000000@0.5:boxborderw=46`);
    expect(drawtext).toContain('textfile=/tmp/c0.txt');
    expect(drawtext).toContain('expansion=none');
    expect(drawtext).toContain('fontsize=115');
    expect(drawtext).toContain('fontcolor=0xFFFF00');
    expect(drawtext).toContain('y=154');
    expect(drawtext).toContain(String.raw`enable=gte(t\,0.5)*lt(t\,1.5)`);
    expect(drawtext).toMatch(/fontfile=\/\S+\.ttf/);
  });

  it('draws the caption in the named font and weight, with the box asked for, or none', () => {
    const drawtextOf = (m: Record<string, unknown>) => graphOf(commandOf(withCaption({ text: 'Hi', ...m })));
    expect(drawtextOf({ font: 'noto-serif-cjk', weight: 'bold' })).toMatch(/fontfile=\S+NotoSerifCJK-Bold\.ttc:/);
    expect(drawtextOf({ box_color: '#123456', box_opacity: 0.8 })).toContain('boxcolor=0x123456@0.8');
    const none = drawtextOf({ box_opacity: 0 });
    expect(none).toContain(':box=0:');
    expect(none).not.toContain('boxcolor');
  });

  it('clamps a caption to the video and leaves out one that starts after it', () => {
    const plan = planRender(draftOf([{ src: 'a.jpg', s: 0, d: 2000 }], 2000, { tracks: [{ tt: 7, sg: [{ s: 1500, d: 5000, m: { text: 'a' } }, { s: 2500, d: 100, m: { text: 'b' } }] }] }), resolve);
    expect(plan.captions.map((c) => [c.text, c.startS, c.endS])).toEqual([['a', 1.5, 2]]);
  });

  it('the command is the same whatever the text: text never reaches the filtergraph', () => {
    const reference = commandOf(withCaption({ text: 'x', position: 'bottom', font: 'dejavu-sans' }));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        expect(commandOf(withCaption({ text, position: 'bottom', font: 'dejavu-sans' }))).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  const style = { size: 'medium', weight: 'regular', overflow: 'wrap' } as const;
  const frame = { width: 1080, height: 1920 };

  it('the text file holds the text wrapped to the frame, never empty, never more lines than fit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), fc.constantFrom('wrap', 'shrink') , (text, overflow) => {
        const layout = captionLayout({ ...style, text, overflow }, frame);
        const lines = captionFileText(layout).split('\n');
        expect(lines.length).toBeLessThanOrEqual(Math.floor((1920 * 0.84) / (layout.fontSize * 1.3)));
        expect(lines.join('').length).toBeGreaterThan(0);
      }),
      { numRuns: 50 },
    );
    // 81 px text in 386 px: "one two" fits, "one two three" and "three four" do not
    expect(captionLayout({ ...style, text: 'one two three four' }, { width: 500, height: 1920 }).lines).toEqual(['one two', 'three', 'four']);
    expect(captionLayout({ ...style, text: 'a\r\nb' }, frame).lines).toEqual(['a', 'b']);
    const cut = captionLayout({ ...style, text: 'word '.repeat(400) }, { width: 200, height: 260 });
    expect(cut.lines).toHaveLength(Math.floor((260 * 0.84) / (cut.fontSize * 1.3)));
    expect(cut.lines.at(-1)).toMatch(/^word( word)*…$/);
    for (const line of cut.lines.slice(0, -1)) expect(line).toMatch(/^word( word)*$/);
  });

  it('picks Noto Sans CJK for Chinese text when no font is named, and the named font otherwise', () => {
    expect(captionLayout({ ...style, text: '夏日促销' }, frame).fontFile).toMatch(/NotoSansCJK-Regular\.ttc$/);
    expect(captionLayout({ ...style, text: '夏日促销', weight: 'bold' }, frame).fontFile).toMatch(/NotoSansCJK-Bold\.ttc$/);
    expect(captionLayout({ ...style, text: 'Summer sale' }, frame).fontFile).toMatch(/DejaVuSans\.ttf$/);
    expect(captionLayout({ ...style, text: '夏日促销', font: 'dejavu-serif' }, frame).fontFile).toMatch(/DejaVuSerif\.ttf$/);
  });

  it('shrinks a long title to one line instead of wrapping it, down to 8 px', () => {
    const title = 'Organic Cotton Crew-Neck T-Shirt, Relaxed Fit, Washed Navy Blue';
    const wrapped = captionLayout({ ...style, text: title }, { width: 720, height: 1280 });
    const shrunk = captionLayout({ ...style, text: title, overflow: 'shrink' }, { width: 720, height: 1280 });
    expect(wrapped.lines.length).toBeGreaterThan(1);
    expect(shrunk.lines).toEqual([title]);
    expect(shrunk.fontSize).toBeLessThan(wrapped.fontSize);
    const tiny = captionLayout({ ...style, text: title.repeat(5), overflow: 'shrink' }, { width: 720, height: 1280 });
    expect(tiny.fontSize).toBe(8);
    expect(tiny.lines.length).toBeGreaterThan(1);
  });
});

describe('filterValue', () => {
  it('escapes for both the option level and the graph level', () => {
    expect(filterValue('plain/path.txt')).toBe('plain/path.txt');
    expect(filterValue('a:b')).toBe(String.raw`a\\:b`);
    expect(filterValue("it's")).toBe(String.raw`it\\\'s`);
    expect(filterValue('a,b;c[d]')).toBe(String.raw`a\,b\;c\[d\]`);
    expect(filterValue(String.raw`a\b`)).toBe(String.raw`a\\\\b`);
  });

  it('turns #rgb and #rrggbb into 0xRRGGBB', () => {
    expect(ffmpegColor('#1a2')).toBe('0x11AA22');
    expect(ffmpegColor('#00ff7f')).toBe('0x00FF7F');
  });
});

describe('motion paths', () => {
  it('keep the window inside the picture all along', () => {
    for (const motion of MOTIONS) {
      const path = motionPath(motion, 0.3);
      if (motion === 'static') {
        expect(path).toBeUndefined();
        continue;
      }
      for (const progress of [0, 0.25, 0.5, 0.75, 1]) {
        const w = windowAt(path!, progress);
        expect(w.cx - w.size / 2).toBeGreaterThanOrEqual(-1e-9);
        expect(w.cx + w.size / 2).toBeLessThanOrEqual(1 + 1e-9);
        expect(w.cy - w.size / 2).toBeGreaterThanOrEqual(-1e-9);
        expect(w.cy + w.size / 2).toBeLessThanOrEqual(1 + 1e-9);
      }
    }
  });

  it('zoom at a constant rate: the window shrinks by the same factor every step', () => {
    const path = motionPath('zoom-in', 0.15)!;
    const sizes = [0, 0.5, 1].map((p) => windowAt(path, p).size);
    expect(sizes[0]).toBe(1);
    expect(sizes[2]).toBeCloseTo(1 / 1.15);
    expect(sizes[1]! / sizes[0]!).toBeCloseTo(sizes[2]! / sizes[1]!);
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

describe('renderGraph', () => {
  it('chains transitions, then captions, to [vout]', () => {
    const draft = draftOf([{ src: 'a.jpg', s: 0, d: 1000 }, { src: 'b.jpg', s: 800, d: 1000, m: { transition: { type: 'fade', d: 200 } } }], 1800, { tracks: [{ tt: 7, sg: [{ s: 0, d: 500, m: { text: 't' } }] }] });
    const graph = renderGraph(planRender(draft, resolve), { captionFiles: ['/tmp/c.txt'] });
    expect(graph).toMatch(/concat=n=3:v=1:a=0,setpts=N\/\(30\*TB\)\[timeline\];\[timeline\]drawtext=.*\[vout\]$/);
  });
});
