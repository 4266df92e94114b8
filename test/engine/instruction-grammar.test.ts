import { describe, expect, it } from 'vitest';
import { GRAMMAR_RULES, planTurn, readInstruction, type DraftMedia, type DraftPicture, type Turn } from '../../src/shared/agent/index.ts';
import { TRACK_TYPE, type Draft } from '../../src/shared/jobs/draft.ts';
import { INTENSITY_AMOUNT, type MotionIntensity } from '../../src/shared/jobs/job-options.ts';

/**
 * The instruction language (docs/instructions.md, src/shared/agent/grammar.ts)
 * as one table: an instruction, and the draft it gives through `planTurn`.
 *
 * A row's `gives` is what differs from where it starts: the defaults for its
 * number of pictures (3 unless it says), or, with `after`, the draft the
 * earlier instruction of the session made. `music` uploads an audio file;
 * `turn` is the kind of a turn that makes no draft (a refusal or a reply).
 */

interface Caption {
  text: string;
  s: number;
  d: number;
  position: string;
  size: string;
  color: string;
  font?: string;
  weight?: string;
  box_color?: string;
  box_opacity?: number;
  overflow?: string;
}

/** The parts of a draft an instruction decides. */
interface View {
  d: number;
  m: { width: number; height: number; fps: number; quality: string; encoding?: Draft['m']['encoding'] };
  video: { motion: string; intensity: MotionIntensity; fit: string; background: string; transition?: { type: string; d: number } };
  text: Caption[];
  audio?: { volume: number; fade_out: number };
  logo?: { src: string; corner: string; size: number; opacity: number; margin: number };
  badge?: { text: string; corner: string; shape: string; size: string; color: string; background: string };
}

interface Row {
  say: string;
  pictures?: number;
  after?: string;
  music?: true;
  /** uploads a picture named brand.png after the others */
  logo?: true;
  gives?: { d?: number; m?: Partial<View['m']>; video?: Partial<View['video']>; text?: Caption[]; audio?: View['audio']; logo?: View['logo']; badge?: View['badge'] };
  turn?: 'refuse' | 'reply';
  /** the turn's text */
  says?: RegExp;
}

const cap = (text: string, s: number, d: number, more: Partial<Caption> = {}): Caption => ({ text, s, d, position: 'bottom', size: 'medium', color: '#ffffff', ...more });

const LANDSCAPE = { width: 1920, height: 1080 };
const SQUARE = { width: 1080, height: 1080 };
const HD_720 = { width: 720, height: 1280 };
const PORTRAIT = { width: 1080, height: 1920 };
const NO_TRANSITION = { transition: undefined };

const INTENSITY_NAMES = new Map(Object.entries(INTENSITY_AMOUNT).map(([name, amount]) => [amount, name as MotionIntensity]));

function view(draft: Draft): View {
  const [video, ...others] = draft.t;
  const segments = (video?.sg ?? []).map(({ m }) => ({
    motion: m.motion,
    intensity: INTENSITY_NAMES.get(m.intensity as number),
    fit: m.fit,
    background: m.background,
    transition: m.transition,
  }));
  const [first, ...rest] = segments;
  // every picture moves alike, and each after the first comes in by the same transition
  for (const segment of rest) expect(segment).toEqual({ ...rest[0], transition: segment.transition });
  for (const segment of rest) expect(segment.transition).toEqual(rest[0]?.transition);
  const audio = others.find((track) => track.tt === TRACK_TYPE.audio)?.sg[0];
  const text = others.find((track) => track.tt === TRACK_TYPE.text)?.sg ?? [];
  const logo = others.find((track) => track.tt === TRACK_TYPE.logo)?.sg[0];
  const badge = others.find((track) => track.tt === TRACK_TYPE.badge)?.sg[0];
  return {
    d: draft.d,
    m: { width: draft.m.width, height: draft.m.height, fps: draft.m.fps, quality: draft.m.quality, encoding: draft.m.encoding },
    video: { ...first!, transition: rest[0]?.transition } as View['video'],
    text: text.map(({ s, d, m }) => ({ s, d, ...m }) as Caption),
    audio: audio && { volume: audio.m.volume, fade_out: audio.m.fade_out },
    logo: logo && { src: logo.src, corner: logo.m.corner, size: logo.m.size, opacity: logo.m.opacity, margin: logo.m.margin },
    badge: badge && { ...badge.m },
  };
}

/** The engine's defaults (settings.ts) as a draft of `pictures` pictures. */
function defaults(pictures: number): View {
  return {
    d: pictures > 1 ? Math.min(3 * pictures, 60) * 1000 : 5000,
    m: { ...PORTRAIT, fps: 30, quality: 'standard' },
    video: { motion: 'ken-burns', intensity: 'normal', fit: 'cover', background: '#000000', transition: pictures > 1 ? { type: 'fade', d: 500 } : undefined },
    text: [],
    audio: undefined,
    logo: undefined,
    badge: undefined,
  };
}

const SALE =
  'Turn these photos into a video. Add the text "Summer Sale" at the top from 0 s to 3 s. Use the uploaded audio as background music at 40% volume.';
const PHOTOS = 'Turn these photos into a video.';
const SUBTLE = 'Turn these photos into a video. Motion intensity: subtle.';
const STRONG = 'Turn these photos into a video. Motion intensity: strong.';

/** a logo, uploaded after the pictures */
const BRAND: DraftPicture = { src: 'http://e/files/1/brand.png', filename: 'brand.png', kind: 'image' };

const COMPOSED: Row[] = [
  { say: 'Animate this image.', pictures: 1 },
  { say: PHOTOS },
  { say: 'Turn these photos into a video. Motion: zoom-in.', gives: { video: { motion: 'zoom-in' } } },
  { say: 'Animate this image. Motion: pan-up, subtle intensity.', pictures: 1, gives: { video: { motion: 'pan-up', intensity: 'subtle' } } },
  { say: STRONG, gives: { video: { intensity: 'strong' } } },
  { say: 'turn these photos into a video. motion: ZOOM-OUT.', gives: { video: { motion: 'zoom-out' } } },
  { say: 'Turn these photos into a video. Duration: 5 seconds.', gives: { d: 5000 } },
  { say: 'Animate this image. Duration: 1 second.', pictures: 1, gives: { d: 1000 } },
  { say: 'Animate this image. Duration: 4 seconds. Duration: 6 seconds.', pictures: 1, gives: { d: 6000 } },
  { say: 'Turn these photos into a video. Aspect ratio 16:9 at 720p, 24 fps, high quality.', gives: { m: { width: 1280, height: 720, fps: 24, quality: 'high' } } },
  { say: 'Turn these photos into a video. Resolution 720p, 25 fps.', gives: { m: { ...HD_720, fps: 25 } } },
  { say: 'Turn these photos into a video. Aspect ratio 1:1.', gives: { m: SQUARE } },
  { say: 'Turn these photos into a video. Aspect ratio 4:5.', gives: { m: { width: 1080, height: 1350 } } },
  { say: 'Turn these photos into a video. 60 fps.', gives: { m: { fps: 60 } } },
  { say: 'Turn these photos into a video. High quality.', gives: { m: { quality: 'high' } } },
  {
    say: 'Animate this image. Duration: 6 seconds. Aspect ratio 1:1 at 1080p, 30 fps. Encoding for google-merchant: a closed GOP of 2 seconds, constant frame rate, video at most 10000 kbps, AAC audio at 48000 Hz, faststart.',
    pictures: 1,
    gives: { d: 6000, m: { ...SQUARE, encoding: { platform: 'google-merchant', gop_s: 2, max_kbps: 10000, audio_hz: 48000 } } },
  },
  {
    say: 'Make it 720p.',
    after: 'Animate this image. Encoding for youtube: a closed GOP of 0.5 seconds, constant frame rate, video at most 8000 kbps, AAC audio at 48000 Hz, faststart.',
    pictures: 1,
    gives: { m: { ...HD_720, encoding: { platform: 'youtube', gop_s: 0.5, max_kbps: 8000, audio_hz: 48000 } } },
  },
  { say: 'Turn these photos into a video. Fit: contain on a #112233 background.', gives: { video: { fit: 'contain', background: '#112233' } } },
  { say: 'Turn these photos into a video. Fit: contain-blur.', gives: { video: { fit: 'contain-blur' } } },
  { say: 'Turn these photos into a video. Background colour #112233.', gives: { video: { background: '#112233' } } },
  { say: 'Turn these photos into a video. Transitions: slideleft, 0.8 seconds each.', gives: { video: { transition: { type: 'slideleft', d: 800 } } } },
  { say: 'Turn these photos into a video. Transitions: none.', gives: { video: NO_TRANSITION } },
  { say: 'Turn these photos into a video. Transition length: 1.5 seconds.', gives: { video: { transition: { type: 'fade', d: 1500 } } } },
  {
    say: 'Turn these photos into a video. Add the text "Summer Sale" at the top from 0 s to 3 s, large size, colour #ffcc00.',
    gives: { text: [cap('Summer Sale', 0, 3000, { position: 'top', size: 'large', color: '#ffcc00' })] },
  },
  {
    say: 'Turn these photos into a video. Add the text "夏日促销" at the bottom from 0 s to 3 s, font noto-serif-cjk, bold weight, box colour #112233, box opacity 80%, shrink to fit.',
    gives: { text: [cap('夏日促销', 0, 3000, { font: 'noto-serif-cjk', weight: 'bold', box_color: '#112233', box_opacity: 0.8, overflow: 'shrink' })] },
  },
  { say: 'Turn these photos into a video. Add the text "x" from 0 s to 3 s, box opacity 0.3333333333333333, wrap to fit.', gives: { text: [cap('x', 0, 3000, { box_opacity: 0.3333333333333333, overflow: 'wrap' })] } },
  { say: 'Turn these photos into a video. Add the text "Say \\"hi\\"" in the center from 1.5 s to 20 s.', gives: { text: [cap('Say "hi"', 1500, 7500, { position: 'center' })] } },
  { say: 'Turn these photos into a video. Add the text "late" from 10 s to 12 s.', gives: { text: [] } },
  {
    say: 'Turn these photos into a video. Use the uploaded audio as background music at 35% volume, fading out over the last 1 second.',
    music: true,
    gives: { audio: { volume: 0.35, fade_out: 1000 } },
  },
  { say: 'Turn these photos into a video. Use the uploaded audio as background music at volume 0.3333333333333333.', music: true, gives: { audio: { volume: 0.3333333333333333, fade_out: 1000 } } },
  { say: 'Turn these photos into a video. Use the uploaded audio as background music, with no fade-out.', music: true, gives: { audio: { volume: 0.35, fade_out: 0 } } },
  { say: 'Turn these photos into a video. Use the uploaded audio as background music.', says: /No audio file was uploaded/ },
  {
    say: 'Turn these photos into a video. Overlay the uploaded logo "brand.png" in the bottom-left corner, size 25%, opacity 0.5, margin 5%.',
    logo: true,
    gives: { logo: { src: BRAND.src, corner: 'bottom-left', size: 0.25, opacity: 0.5, margin: 0.05 } },
  },
  { say: 'Turn these photos into a video. Overlay the uploaded logo "brand.png".', logo: true, gives: { logo: { src: BRAND.src, corner: 'top-right', size: 0.2, opacity: 1, margin: 0.04 } } },
  { say: 'Turn these photos into a video. Overlay the uploaded logo "other.png".', logo: true, gives: { d: 12000 }, says: /No picture named "other\.png" was uploaded/ },
  {
    say: 'Turn these photos into a video. Overlay the uploaded logo "brand.png" in the top-left corner.',
    after: 'Turn these photos into a video. Overlay the uploaded logo "brand.png" in the bottom-left corner, size 25%.',
    logo: true,
    gives: { logo: { src: BRAND.src, corner: 'top-left', size: 0.25, opacity: 1, margin: 0.04 } },
  },
  {
    say: 'Turn these photos into a video. Add the badge "-30%" in the top-right corner, circle shape, large size, colour #000000, background #00ff00.',
    gives: { badge: { text: '-30%', corner: 'top-right', shape: 'circle', size: 'large', color: '#000000', background: '#00ff00' } },
  },
  { say: 'Turn these photos into a video. Add the badge "€19.99".', gives: { badge: { text: '€19.99', corner: 'top-left', shape: 'rounded', size: 'medium', color: '#ffffff', background: '#e11d48' } } },
  {
    say: 'Turn these photos into a video. Replace the earlier captions with the following. Add the text "New" from 1 s to 2 s.',
    after: 'Turn these photos into a video. Add the text "Old" from 0 s to 3 s.',
    gives: { text: [cap('New', 1000, 1000)] },
  },
  {
    say: 'Turn these photos into a video. Add the text "New" from 1 s to 2 s.',
    after: 'Turn these photos into a video. Add the text "Old" from 0 s to 3 s.',
    gives: { text: [cap('Old', 0, 3000), cap('New', 1000, 1000)] },
  },
  { say: 'Replace the earlier captions with the following.', after: 'Turn these photos into a video. Add the text "Old" from 0 s to 3 s.', gives: { text: [] } },
  {
    say:
      'Animate this image with a slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps. ' +
      'Add the text "Summer Sale" at the top from 0 s to 3 s. Use the uploaded audio as background music at 35% volume.',
    pictures: 1,
    music: true,
    gives: { d: 5000, video: { motion: 'zoom-in', intensity: 'subtle' }, text: [cap('Summer Sale', 0, 3000, { position: 'top' })], audio: { volume: 0.35, fade_out: 1000 } },
  },
  {
    say: 'Make it 16:9 with a zoom out. Aspect ratio 1:1. Add the text "pan left. Duration: 9 seconds. 4:5" from 0 s to 1 s.',
    gives: { m: SQUARE, video: { motion: 'zoom-out' }, text: [cap('pan left. Duration: 9 seconds. 4:5', 0, 1000)] },
  },
  { say: 'He said "wait. Duration: 4 seconds. Add the text "ok" from 0 s to 1 s.', gives: { d: 4000, text: [cap('ok', 0, 1000)] } },
  { say: 'Make a 20-second video with a pan to the left. Motion: zoom-out. Duration: 6 seconds. Aspect ratio 16:9.', gives: { d: 6000, m: LANDSCAPE, video: { motion: 'zoom-out' } } },
];

const SALE_TEXT = [cap('Summer Sale', 0, 3000, { position: 'top' })];
const followUp = (say: string, gives: Row['gives'], after = SALE): Row => ({ say, after, music: true, gives });

const FOLLOW_UPS: Row[] = [
  followUp('change the text to "Winter Sale"', { text: [cap('Winter Sale', 0, 3000, { position: 'top' })] }),
  followUp('change the text to Winter Sale. Make it 16:9', { text: [cap('Winter Sale', 0, 3000, { position: 'top' })], m: LANDSCAPE }),
  followUp('把字幕改成「冬季促销」', { text: [cap('冬季促销', 0, 3000, { position: 'top' })] }),
  followUp('把字幕改成冬季促销', { text: [cap('冬季促销', 0, 3000, { position: 'top' })] }),
  followUp('change the text to Hello', { text: [cap('Hello', 0, 9000)] }, PHOTOS),
  ...['remove the music', 'no music', 'without music', 'mute', '去掉音乐', '删除音乐', '不要音乐'].map((say) => followUp(say, { audio: undefined })),
  ...['remove the captions', 'remove the text', 'no captions', '去掉字幕', '删除字幕'].map((say) => followUp(say, { text: [] })),
  ...['make the zoom slower', 'slower', 'slow it down', 'make it gentler', 'make it more subtle', '慢一点', '更慢', '放慢'].map((say) =>
    followUp(say, { video: { intensity: 'subtle' } }),
  ),
  ...['make it faster', 'faster', 'stronger', 'make it more dramatic', 'speed up', '快一点', '更快', '加快'].map((say) => followUp(say, { video: { intensity: 'strong' } })),
  // one step from where it is; the bare words are the intensity keywords, not a step
  followUp('make it more dramatic', { video: { intensity: 'normal' } }, SUBTLE),
  followUp('more dramatic', { video: { intensity: 'strong' } }, SUBTLE),
  followUp('make it more subtle', { video: { intensity: 'normal' } }, STRONG),
  followUp('more subtle', { video: { intensity: 'subtle' } }, STRONG),
  { say: 'gentler', after: SALE, music: true, turn: 'reply', says: /haven't changed anything/ },
  { say: 'slower', after: SUBTLE, turn: 'reply', says: /haven't changed anything/ },
  followUp('make it 12 seconds long', { d: 12000 }),
  followUp('use a pan to the left instead', { video: { motion: 'pan-left' } }),
  followUp('no transitions', { video: NO_TRANSITION }),
  followUp('make it 16:9', { m: LANDSCAPE }),
  { say: 'make it 9:16', after: SALE, music: true, turn: 'reply', says: /haven't changed anything/ },
  ...['导出', 'export', 'download it'].map((say): Row => ({ say, after: SALE, music: true, turn: 'reply', says: /^Your video is ready to export/ })),
];

const CAPTIONS: Row[] = [
  { say: 'add the caption "Hello world" at the top from 1 s to 3 s', gives: { text: [cap('Hello world', 1000, 2000, { position: 'top' })] } },
  { say: 'with the title “Summer Sale”', gives: { text: [cap('Summer Sale', 0, 9000)] } },
  { say: "put the text 'Zoom out 16:9' in the middle", gives: { text: [cap('Zoom out 16:9', 0, 9000, { position: 'center' })] } },
  { say: 'add the caption "zoom out in 16:9"', gives: { text: [cap('zoom out in 16:9', 0, 9000)] } },
  { say: 'add the caption "Hi" from 3 s to 1 s', gives: { text: [cap('Hi', 0, 9000)] } },
  { say: '字幕「夏日促销」在顶部', gives: { text: [cap('夏日促销', 0, 9000, { position: 'top' })] } },
  { say: '字幕：限时优惠', gives: { text: [cap('限时优惠', 0, 9000)] } },
  // quoted text that is not a caption is somebody's words, not an instruction
  { say: 'make it like “zoom out 16:9”' },
  {
    say: '竖屏，缓慢放大，字幕「夏日促销」，背景音乐，转场，15秒',
    music: true,
    gives: { d: 15000, video: { motion: 'zoom-in', intensity: 'subtle' }, text: [cap('夏日促销', 0, 15000)], audio: { volume: 0.35, fade_out: 1000 } },
  },
];

/** Phrases whose numbers are not the video's duration. */
const NUMBERS: Row[] = [
  { say: '0.8 s crossfade transitions for a 12 second video', gives: { d: 12000, video: { transition: { type: 'fade', d: 800 } } } },
  { say: 'transitions of 1 second', gives: { video: { transition: { type: 'fade', d: 1000 } } } },
  { say: 'transitions lasting 5 seconds', gives: { video: { transition: { type: 'fade', d: 2000 } } } },
  { say: '0.1 second transitions', gives: { video: { transition: { type: 'fade', d: 200 } } } },
  { say: 'music at 50% volume, fading out over the last 2 seconds, 8 seconds long', music: true, gives: { d: 8000, audio: { volume: 0.5, fade_out: 2000 } } },
  { say: 'background music fading out over 30 seconds', music: true, gives: { audio: { volume: 0.35, fade_out: 9000 } } },
  { say: '背景音乐，音量50%', music: true, gives: { audio: { volume: 0.5, fade_out: 1000 } } },
  { say: 'music at volume 150%', music: true, gives: { audio: { volume: 1, fade_out: 1000 } } },
];

const motion = (say: string, to: string, after?: string): Row => ({ say, ...(after && { after }), gives: { video: { motion: to } } });
const intensity = (say: string, to: MotionIntensity, after?: string): Row => ({ say, ...(after && { after }), gives: { video: { intensity: to } } });
const transition = (say: string, type: string | undefined, after?: string): Row => ({
  say,
  ...(after && { after }),
  gives: { video: { transition: type === undefined ? undefined : { type, d: 500 } } },
});

const KEYWORDS: Row[] = [
  // duration (clamped to 1–60 s)
  { say: 'turn these photos into a 30-second video', gives: { d: 30000 } },
  { say: 'make a 7 s clip', gives: { d: 7000 } },
  { say: 'make a 2.5s clip', gives: { d: 2500 } },
  { say: 'duration 8', gives: { d: 8000 } },
  { say: '做一个10秒的视频', gives: { d: 10000 } },
  { say: 'a very long 600-second video', gives: { d: 60000 } },
  { say: 'a 0.2 second flash', gives: { d: 1000, video: { transition: { type: 'fade', d: 250 } } } },
  { say: 'duration 0, 5 seconds', gives: { d: 5000 } },
  // aspect ratio
  { say: '16:9', gives: { m: LANDSCAPE } },
  { say: '16x9 please', gives: { m: LANDSCAPE } },
  { say: 'aspect ratio 4:5', gives: { m: { width: 1080, height: 1350 } } },
  { say: '1:1 please', gives: { m: SQUARE } },
  ...['9:16', 'a vertical video', 'portrait orientation', '竖屏视频', '竖版'].map((say): Row => ({ say, after: '16:9', gives: { m: PORTRAIT } })),
  { say: 'animate this portrait photo', after: '16:9', turn: 'reply' },
  ...['horizontal', 'widescreen', 'landscape format', '横屏视频', '横版'].map((say): Row => ({ say, gives: { m: LANDSCAPE } })),
  { say: 'animate this landscape photo' },
  ...['square', '方形', '正方形的视频'].map((say): Row => ({ say, gives: { m: SQUARE } })),
  // resolution, frame rate, quality
  { say: '720p', gives: { m: HD_720 } },
  ...['1080p', 'full hd', 'fhd'].map((say): Row => ({ say, after: '720p', gives: { m: PORTRAIT } })),
  { say: '720p at 24 fps', gives: { m: { ...HD_720, fps: 24 } } },
  { say: 'full hd, 25 frames per second, high quality', gives: { m: { fps: 25, quality: 'high' } } },
  { say: 'fps 60', gives: { m: { fps: 60 } } },
  { say: '30帧', after: '24 fps', gives: { m: { fps: 30 } } },
  { say: '4K at 48 fps' },
  ...['high quality', 'best quality', 'top-quality', '高质量', '高画质'].map((say): Row => ({ say, gives: { m: { quality: 'high' } } })),
  ...['standard quality', '标准画质'].map((say): Row => ({ say, after: 'high quality', gives: { m: { quality: 'standard' } } })),
  // motion
  motion('a Ken Burns effect', 'ken-burns', 'zoom out'),
  { say: 'zoom out slowly', gives: { video: { motion: 'zoom-out', intensity: 'subtle' } } },
  motion('pull back from the subject', 'zoom-out'),
  motion('panning left', 'pan-left'),
  motion('scroll to the left', 'pan-left'),
  motion('pan right across the scene', 'pan-right'),
  motion('pan across the room', 'pan-right'),
  motion('tilt up to the sky', 'pan-up'),
  motion('pan down', 'pan-down'),
  motion('keep it static', 'static'),
  motion('no motion at all', 'static'),
  motion('without any movement', 'static'),
  { say: 'convert my static images' },
  motion('animate it with a zoom', 'zoom-in'),
  motion('push in on the face', 'zoom-in'),
  ...['放大', '推近', '缩放'].map((say) => motion(say, 'zoom-in')),
  ...['缩小', '拉远'].map((say) => motion(say, 'zoom-out')),
  ...['向左移动', '画面左移', '往左'].map((say) => motion(say, 'pan-left')),
  ...['向右', '右移', '往右'].map((say) => motion(say, 'pan-right')),
  ...['向上', '上移'].map((say) => motion(say, 'pan-up')),
  ...['向下', '下移'].map((say) => motion(say, 'pan-down')),
  ...['静止画面', '不动'].map((say) => motion(say, 'static')),
  // motion intensity
  { say: 'a slow zoom', gives: { video: { motion: 'zoom-in', intensity: 'subtle' } } },
  ...['gentle motion', 'subtle', 'slightly', 'soft', '轻微', '轻柔'].map((say) => intensity(say, 'subtle')),
  { say: '慢慢放大', gives: { video: { motion: 'zoom-in', intensity: 'subtle' } } },
  { say: '缓慢推近', gives: { video: { motion: 'zoom-in', intensity: 'subtle' } } },
  { say: 'a dramatic zoom', gives: { video: { motion: 'zoom-in', intensity: 'strong' } } },
  ...['fast', 'quick', 'strong', 'dynamic', 'energetic', 'intense', '强烈', '剧烈'].map((say) => intensity(say, 'strong')),
  { say: '快速缩小', gives: { video: { motion: 'zoom-out', intensity: 'strong' } } },
  intensity('normal motion', 'normal', 'strong'),
  // fit and background
  { say: 'with a blurred background', gives: { video: { fit: 'contain-blur' } } },
  { say: '模糊背景', gives: { video: { fit: 'contain-blur' } } },
  { say: 'letterboxed on a #223344 background', gives: { video: { fit: 'contain', background: '#223344' } } },
  ...['contain', 'fit the whole image', 'no cropping', '完整显示', '不裁剪'].map((say): Row => ({ say, gives: { video: { fit: 'contain' } } })),
  { say: "don't crop the photo, on a white background", gives: { video: { fit: 'contain', background: '#ffffff' } } },
  ...['fill the frame', 'crop to fill', '铺满', '填满'].map((say): Row => ({ say, after: 'contain', gives: { video: { fit: 'cover' } } })),
  { say: 'background #223344', gives: { video: { background: '#223344' } } },
  { say: '白色背景', gives: { video: { background: '#ffffff' } } },
  ...['black background', '黑色背景'].map((say): Row => ({ say, after: 'white background', gives: { video: { background: '#000000' } } })),
  // transitions
  ...['with transitions', '加转场', '过渡', 'crossfade', 'fade transitions', 'fades between the photos', '淡入淡出'].map((say) => transition(say, 'fade', 'no transitions')),
  ...['with dissolves between photos', '溶解'].map((say) => transition(say, 'dissolve')),
  transition('slide left between the photos', 'slideleft'),
  transition('slide right', 'slideright'),
  transition('slide up', 'slideup'),
  transition('slide down', 'slidedown'),
  transition('wipe left', 'wipeleft'),
  transition('wipe right', 'wiperight'),
  transition('circle open transitions', 'circleopen'),
  transition('smooth left', 'smoothleft'),
  transition('smooth right', 'smoothright'),
  ...['hard cuts, no transitions', 'without transitions', 'a hard cut', '无转场', '不要转场'].map((say) => transition(say, undefined)),
  // music: the uploaded audio
  ...['add background music', 'with a soundtrack', 'add bgm', 'use the uploaded audio', 'play the song', '加背景音乐', '配乐', '音乐'].map(
    (say): Row => ({ say, music: true, gives: { audio: { volume: 0.35, fade_out: 1000 } } }),
  ),
  { say: 'add background music', says: /No audio file was uploaded/ },
];

const INTENTS: Row[] = [
  ...[
    'animate this image into a 5-second diffusion video with cinematic motion',
    'use pixverse',
    'seedance please',
    'make a text-to-video clip',
    'an AI-generated video',
    'generate an AI video from this',
    'animate it with a generative model',
    '用AI生成视频',
    '文生视频',
    '用扩散模型',
  ].map((say): Row => ({ say, turn: 'refuse' })),
  { say: 'add the caption "Stable Diffusion meetup"', gives: { text: [cap('Stable Diffusion meetup', 0, 9000)] } },
  { say: 'Animate this image. Add the text "diffusion" from 0 s to 1 s.', pictures: 1, gives: { text: [cap('diffusion', 0, 1000)] } },
  { say: 'export 1080p MP4' },
  { say: 'animate this image with a slow zoom', pictures: 0, turn: 'reply', says: /don't see an image/ },
];

const TABLE = { COMPOSED, FOLLOW_UPS, CAPTIONS, NUMBERS, KEYWORDS, INTENTS };
const ROWS = Object.values(TABLE).flat();

const MUSIC: DraftMedia = { src: 'http://e/files/1/song.mp3', filename: 'song.mp3' };
const pictures = (count: number): DraftPicture[] =>
  Array.from({ length: count }, (_, index) => ({ src: `http://e/files/1/p${index}.jpg`, filename: `p${index}.jpg`, kind: 'image' }));

function turnOf(row: Row): { turn: Turn; start: View } {
  const count = row.pictures ?? 3;
  const media = { pictures: [...pictures(count), ...(row.logo ? [BRAND] : [])], ...(row.music && { music: MUSIC }) };
  if (row.after === undefined) return { turn: planTurn({ instruction: row.say, ...media }), start: defaults(count) };
  const earlier = planTurn({ instruction: row.after, ...media });
  if (earlier.kind !== 'edit') throw new Error(`${row.after} made no draft`);
  return { turn: planTurn({ instruction: row.say, ...media, previous: { request: earlier.request, draft: earlier.draft } }), start: view(earlier.draft) };
}

describe.each(Object.entries(TABLE))('the instruction grammar: %s', (_, rows) => {
  it.each(rows.map((row) => [row.after === undefined ? row.say : `${row.say} (after ${row.after})`, row] as const))('%s', (_, row) => {
    const { turn, start } = turnOf(row);
    if (row.says) expect(turn.text).toMatch(row.says);
    if (row.turn) {
      expect(turn.kind).toBe(row.turn);
      return;
    }
    expect(turn.kind).toBe('edit');
    if (turn.kind !== 'edit') return;
    const { gives = {} } = row;
    expect(view(turn.draft)).toEqual({ ...start, ...gives, m: { ...start.m, ...gives.m }, video: { ...start.video, ...gives.video } });
  });
});

describe('the table', () => {
  it('hits every rule of the grammar', () => {
    const names = GRAMMAR_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    const hit = new Set(ROWS.flatMap((row) => readInstruction(row.say).rules));
    expect(names.filter((name) => !hit.has(name))).toEqual([]);
  });
});
