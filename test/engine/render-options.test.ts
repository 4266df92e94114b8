import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterValue } from '../../src/engine/render/filter-escape.ts';
import { TRANSITIONS } from '../../src/shared/jobs/draft.ts';
import {
  bandStats, decodeFrames, ffmpegBytes, lavfi, meanAbsDifference, meanVolume, probeStreams, renderFolder, slideshow, topLevelBoxes, writeImage,
} from './render-helpers.ts';

const W = 180;
const H = 320;
const FRAME = W * H;

describe('render options, checked on the MP4', () => {
  let folder: Awaited<ReturnType<typeof renderFolder>>;
  const at = (name: string) => path.join(folder.dir, name);

  beforeAll(async () => {
    folder = await renderFolder();
    // a landscape photo with large-scale structure (so a blurred copy of it is not flat)
    await lavfi(at('landscape.png'), 'testsrc2=size=320x180', ['-frames:v', '1']);
    await writeImage(at('red.png'), W, H, () => [220, 30, 30]);
    await writeImage(at('blue.png'), W, H, () => [30, 30, 220]);
    await writeImage(at('gray.jpg'), W, H, (x, y) => [90 + ((x + y) % 7), 90, 90]);
    // videos whose brightness tells the time: 80 levels a second
    const ramp = (seconds: number) => `color=black:size=320x180:rate=30:duration=${seconds},format=yuv420p,geq=lum='16+80*T':cb=128:cr=128`;
    await lavfi(at('clip.mp4'), ramp(3), ['-c:v', 'libx264', '-crf', '10', '-pix_fmt', 'yuv420p']);
    await lavfi(at('short.webm'), ramp(1), ['-c:v', 'libvpx', '-crf', '4', '-b:v', '1M']);
    await lavfi(at('tone.wav'), 'sine=f=440:d=1:sample_rate=48000');
    await lavfi(at('long.wav'), 'sine=f=440:d=3:sample_rate=48000');
    // a GIF whose first frame is red and second blue
    await ffmpegBytes(['-f', 'lavfi', '-i', 'color=red:size=180x320:rate=2:duration=0.5', '-f', 'lavfi', '-i', 'color=blue:size=180x320:rate=2:duration=0.5', '-filter_complex', '[0:v][1:v]concat=n=2:v=1', '-y', at('two.gif')]);
    await writeImage(at('still.webp'), W, H, () => [30, 200, 30]);
  });
  afterAll(() => folder.close());

  describe('output', () => {
    it('is H.264 High, yuv420p, tagged BT.709, faststart, AAC 128k, even-sized and exactly as long as the draft', async () => {
      const draft = slideshow([{ src: 'gray.jpg', d: 1500, m: { motion: 'zoom-in' } }], {
        width: 181, height: 321,
        extraTracks: [{ tt: 1, sg: [{ s: 0, d: 1500, src: 'tone.wav', m: { volume: 0.5 } }] }],
      });
      const file = await folder.render(draft, 'output.mp4');
      const { streams, durationS } = await probeStreams(file);
      const video = streams.find((s) => s.codec_type === 'video')!;
      expect(video).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', width: 180, height: 320, color_space: 'bt709', color_primaries: 'bt709', color_transfer: 'bt709', nb_frames: '45' });
      expect(Math.abs(durationS - 1.5)).toBeLessThanOrEqual(1 / 30);
      const audio = streams.find((s) => s.codec_type === 'audio')!;
      expect(audio.codec_name).toBe('aac');
      expect(Number(audio.bit_rate)).toBeGreaterThan(96_000);
      expect(Number(audio.bit_rate)).toBeLessThan(160_000);
      const boxes = await topLevelBoxes(file);
      expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    });

    it('has no audio stream without an audio track', async () => {
      const file = await folder.render(slideshow([{ src: 'gray.jpg', d: 500 }]), 'silent.mp4');
      expect((await probeStreams(file)).streams.map((s) => s.codec_type)).toEqual(['video']);
    });

    it('quality high makes a file no larger than standard at the same CRF', async () => {
      const draft = (quality: string) => ({ ...slideshow([{ src: 'landscape.png', d: 2000, m: { motion: 'ken-burns' } }]), m: { width: W, height: H, fps: 30, quality } });
      const standard = await stat(await folder.render(draft('standard'), 'standard.mp4'));
      const high = await stat(await folder.render(draft('high'), 'high.mp4'));
      expect(high.size).toBeLessThanOrEqual(standard.size);
    });
  });

  describe('fit', () => {
    async function frameOf(fit: string, extra: Record<string, unknown> = {}) {
      const file = await folder.render(slideshow([{ src: 'landscape.png', d: 200, m: { fit, ...extra } }]), `fit-${fit}.mp4`);
      return { gray: (await decodeFrames(file, W, H))[0]!, rgb: (await decodeFrames(file, W, H, 'rgb24'))[0]! };
    }
    // a 16:9 photo contained in a 9:16 frame fills rows 134–186; above and below is the border
    const border = [0, 120] as const;
    const picture = [140, 180] as const;

    it('cover fills the frame: the top rows are the photo, as varied as its middle', async () => {
      const { gray } = await frameOf('cover');
      expect(bandStats(gray, W, ...border).std).toBeGreaterThan(10);
    });

    it('contain shows the photo whole over the background colour', async () => {
      const { rgb, gray } = await frameOf('contain', { background: '#f00' });
      const top = rgb.subarray(0, W * 100 * 3);
      const channel = (c: number) => top.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (top.length / 3);
      expect(channel(0)).toBeGreaterThan(220);
      expect(channel(1)).toBeLessThan(30);
      expect(channel(2)).toBeLessThan(30);
      expect(bandStats(gray, W, ...picture).std).toBeGreaterThan(10);
    });

    it('contain-blur puts the whole photo over a blurred, darkened copy of itself', async () => {
      const { gray } = await frameOf('contain-blur');
      const back = bandStats(gray, W, ...border);
      const photo = bandStats(gray, W, ...picture);
      expect(back.std).toBeGreaterThan(3); // not a flat colour
      expect(back.mean).toBeLessThan(photo.mean * 0.8);
    });
  });

  describe('transitions', () => {
    const twoPictures = (type: string) =>
      slideshow([{ src: 'red.png', d: 1000 }, { src: 'blue.png', d: 1000, m: { transition: { type, d: 500 } } }]);

    it.each([['fade'], ['slideleft']])('%s: frames mid-transition differ from both pictures; the total stays exact', async (type) => {
      const file = await folder.render(twoPictures(type), `transition-${type}.mp4`);
      const frames = await decodeFrames(file, W, H);
      expect(frames).toHaveLength(45);
      const [red, middle, blue] = [frames[5]!, frames[22]!, frames[40]!];
      expect(meanAbsDifference(red, blue)).toBeGreaterThan(20);
      expect(meanAbsDifference(middle, red)).toBeGreaterThan(5);
      expect(meanAbsDifference(middle, blue)).toBeGreaterThan(5);
      // outside the transition each picture shows unchanged
      expect(meanAbsDifference(frames[0]!, frames[14]!)).toBeLessThan(1);
      expect(meanAbsDifference(frames[30]!, frames[44]!)).toBeLessThan(1);
    });

    it('every transition name renders, each picture in turn, to the exact length', async () => {
      const types = TRANSITIONS.filter((t) => t !== 'none');
      const draft = slideshow([
        { src: 'red.png', d: 400 },
        ...types.map((type, i) => ({ src: i % 2 === 0 ? 'blue.png' : 'red.png', d: 400, m: { transition: { type, d: 200 } } })),
        { src: 'blue.png', d: 300, m: { transition: { type: 'none', d: 0 } } },
      ]);
      const file = await folder.render(draft, 'all-transitions.mp4');
      const expectedFrames = Math.round((draft.d * 30) / 1000);
      expect((await decodeFrames(file, W, H)).length).toBe(expectedFrames);
    });
  });

  describe('captions', () => {
    const captioned = (m: Record<string, unknown>, s = 500, d = 500) =>
      slideshow([{ src: 'gray.jpg', d: 1500 }], { extraTracks: [{ tt: 7, sg: [{ s, d, m }] }] });
    let plain: Buffer[];

    beforeAll(async () => {
      plain = await decodeFrames(await folder.render(slideshow([{ src: 'gray.jpg', d: 1500 }]), 'plain.mp4'), W, H);
    });

    const rows = (from: number, to: number) => (i: number) => i >= from * W && i < to * W;

    it('shows only within its time window', async () => {
      const frames = await decodeFrames(await folder.render(captioned({ text: 'Hello, world', size: 'large' }), 'caption-window.mp4'), W, H);
      expect(meanAbsDifference(frames[7]!, plain[7]!)).toBeLessThan(0.5);
      expect(meanAbsDifference(frames[22]!, plain[22]!)).toBeGreaterThan(1);
      expect(meanAbsDifference(frames[37]!, plain[37]!)).toBeLessThan(0.5);
    });

    it('top and bottom place it in the top or the bottom of the frame', async () => {
      const top = await decodeFrames(await folder.render(captioned({ text: 'Hello', position: 'top' }), 'caption-top.mp4'), W, H);
      const bottom = await decodeFrames(await folder.render(captioned({ text: 'Hello', position: 'bottom' }), 'caption-bottom.mp4'), W, H);
      expect(meanAbsDifference(top[22]!, plain[22]!, rows(0, 100))).toBeGreaterThan(2);
      expect(meanAbsDifference(top[22]!, plain[22]!, rows(220, 320))).toBeLessThan(0.5);
      expect(meanAbsDifference(bottom[22]!, plain[22]!, rows(220, 320))).toBeGreaterThan(2);
      expect(meanAbsDifference(bottom[22]!, plain[22]!, rows(0, 100))).toBeLessThan(0.5);
    });

    it.each([
      ['quotes and colons', `it's "50% off": don't miss it; [now], {ok}`],
      ['backslashes and expansions', String.raw`C:\path\n %{pts} %{localtime} \%{eif:1:d} $(rm -rf /)`],
      ['newlines and emoji', 'line one\nline two\r\nline three 😀🎬 — ünïcødé 中文'],
      ['2,000 characters', 'word '.repeat(400)],
    ])('renders hostile text literally: %s', async (name, text) => {
      const frames = await decodeFrames(await folder.render(captioned({ text, size: 'large', color: '#ff0' }), `caption-${name.replace(/\W/g, '')}.mp4`), W, H);
      expect(frames).toHaveLength(45);
      expect(meanAbsDifference(frames[22]!, plain[22]!)).toBeGreaterThan(1);
    });

    it('finds its text file through any path (the escaping holds in a real ffmpeg)', async () => {
      const dir = at(`we'ird: dir, [x]; \\y`);
      await mkdir(dir);
      const textFile = path.join(dir, 'caption.txt');
      await writeFile(textFile, 'Hi');
      const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
      const drawn = await ffmpegBytes([
        '-f', 'lavfi', '-i', 'color=black:size=64x32', '-frames:v', '1',
        '-vf', `drawtext=fontfile=${filterValue(font)}:textfile=${filterValue(textFile)}:fontcolor=white:fontsize=20`,
        '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1',
      ]);
      expect(drawn.some((v) => v > 128)).toBe(true);
    });
  });

  describe('audio', () => {
    const withMusic = (m: Record<string, unknown>, src = 'tone.wav', d = 2000) =>
      slideshow([{ src: 'gray.jpg', d }], { extraTracks: [{ tt: 1, sg: [{ s: 0, d, src, m }] }] });
    const audioDuration = async (file: string) => Number((await probeStreams(file)).streams.find((s) => s.codec_type === 'audio')!.duration);

    it('loops a shorter file and trims a longer one to the video', async () => {
      const looped = await folder.render(withMusic({ volume: 1, fade_out: 0 }), 'looped.mp4');
      expect(Math.abs((await audioDuration(looped)) - 2)).toBeLessThanOrEqual(1 / 30);
      // the tone goes on past its own 1 s (a lavfi sine is about -21 dB)
      expect(await meanVolume(looped, 1.3, 0.5)).toBeGreaterThan(-30);
      const trimmed = await folder.render(withMusic({ volume: 1, fade_out: 0 }, 'long.wav', 1000), 'trimmed.mp4');
      expect(Math.abs((await audioDuration(trimmed)) - 1)).toBeLessThanOrEqual(1 / 30);
    });

    it('without loop, a shorter file is followed by silence', async () => {
      const file = await folder.render(withMusic({ volume: 1, fade_out: 0, loop: false }), 'once.mp4');
      expect(Math.abs((await audioDuration(file)) - 2)).toBeLessThanOrEqual(1 / 30);
      expect(await meanVolume(file, 1.3, 0.5)).toBeLessThan(-60);
    });

    it('applies the volume (0.25 is 12 dB below 1)', async () => {
      const full = await meanVolume(await folder.render(withMusic({ volume: 1, fade_out: 0 }), 'volume-1.mp4'));
      const quarter = await meanVolume(await folder.render(withMusic({ volume: 0.25, fade_out: 0 }), 'volume-025.mp4'));
      expect(full - quarter).toBeGreaterThan(10.5);
      expect(full - quarter).toBeLessThan(13.5);
    });

    it('fades out over the last fade_out ms', async () => {
      const file = await folder.render(withMusic({ volume: 1, fade_out: 1000 }), 'fade.mp4');
      const middle = await meanVolume(file, 0.2, 0.5);
      const end = await meanVolume(file, 1.5, 0.5);
      expect(middle - end).toBeGreaterThan(6);
    });
  });

  describe('inputs', () => {
    it('a video is trimmed from m.in, and its last frame held when it ends early', async () => {
      const file = await folder.render(slideshow([{ src: 'clip.mp4', d: 1000, m: { in: 1500, fit: 'cover' } }, { src: 'short.webm', d: 1500 }]), 'videos.mp4');
      const frames = await decodeFrames(file, W, H);
      expect(frames).toHaveLength(75);
      const brightness = (frame: Buffer) => bandStats(frame, W, 0, H).mean;
      // the ramp at `t` s, as full-range gray
      const ramp = (t: number) => (80 * t * 255) / 219;
      // the clip from 1.5 s
      expect(brightness(frames[0]!)).toBeCloseTo(ramp(1.5), -1);
      expect(brightness(frames[29]!)).toBeCloseTo(ramp(1.5 + 29 / 30), -1);
      // the 1 s webm plays from its start, then holds its last frame
      expect(brightness(frames[30]!)).toBeCloseTo(ramp(0), -1);
      expect(brightness(frames[59]!)).toBeCloseTo(ramp(29 / 30), -1);
      expect(meanAbsDifference(frames[59]!, frames[74]!)).toBeLessThan(0.5);
    });

    it('a video with a motion is moved frame by frame and keeps its timing', async () => {
      const still = await decodeFrames(await folder.render(slideshow([{ src: 'clip.mp4', d: 1000 }]), 'video-still.mp4'), W, H);
      const zoomed = await decodeFrames(await folder.render(slideshow([{ src: 'clip.mp4', d: 1000, m: { motion: 'zoom-in', intensity: 0.3 } }]), 'video-zoom.mp4'), W, H);
      expect(zoomed).toHaveLength(30);
      // the same moment of the clip, whole at the start of the zoom and 1.3× larger at its end
      expect(meanAbsDifference(zoomed[0]!, still[0]!)).toBeLessThan(1.5);
      expect(bandStats(zoomed[29]!, W, 0, H).mean).toBeCloseTo(bandStats(still[29]!, W, 0, H).mean, -1);
    });

    it('a GIF shows its first frame; a WebP still renders', async () => {
      const file = await folder.render(slideshow([{ src: 'two.gif', d: 500 }, { src: 'still.webp', d: 500 }]), 'gif.mp4');
      const frames = await decodeFrames(file, W, H, 'rgb24');
      const [r, g, b] = [0, 1, 2].map((c) => frames[10]![c]!);
      expect(r).toBeGreaterThan(180);
      expect(b).toBeLessThan(80);
      expect(frames[25]![1]).toBeGreaterThan(150);
      expect(g).toBeLessThan(80);
    });
  });
});
