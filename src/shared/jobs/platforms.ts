import { PLATFORMS, type AspectRatio, type JobOptions, type Platform, type Resolution } from './job-options.ts';

/**
 * The platform presets (`options.platform`), one row each: what a preset sets
 * (size, frame rate, a duration when the job sets none, the encoding rules)
 * and what it checks but cannot set (the durations a platform accepts, the
 * sizes and frame rates it takes when a job states its own). docs/platforms.md
 * is this table in words, with each platform's published source. The values a
 * platform does not publish (most bitrate caps, most keyframe intervals) are
 * this project's choices, marked so in the docs.
 */
export { PLATFORMS, type Platform };

type FrameRate = NonNullable<JobOptions['fps']>;

/** A bitrate cap per resolution: up to 30 fps, and above (60 fps). */
type BitrateCaps = Record<Resolution, { upTo30: number; above30: number }>;

export interface PlatformSpec {
  /** the platform's own name, for messages */
  label: string;
  aspect_ratio: { preset: AspectRatio; allowed: readonly AspectRatio[] };
  /** the preset's size; every platform takes 720p and 1080p, so a job may ask for either */
  resolution: Resolution;
  fps: { preset: FrameRate; allowed: readonly FrameRate[] };
  /** the durations the platform accepts (seconds; the API's own range is 1–60) */
  duration_s: { min?: number; max?: number };
  /** the largest file the platform takes, MB (10^6 bytes); the bitrate cap keeps the longest clip under it */
  max_file_mb: number;
  /** the closed GOP's length (a keyframe every this many seconds, none in between) */
  gop_s: number;
  /** the video bitrate cap, kbit/s (x264 VBV: `-maxrate`, with a buffer of twice that) */
  video_kbps: BitrateCaps;
  /** the published pages these rules come from */
  sources: readonly string[];
}

/** The AAC audio every preset asks for: 48 kHz stereo at this bitrate (what the renderer already writes). */
export const PLATFORM_AUDIO = { hz: 48000, kbps: 128 } as const;
/** The sample rates an encoding rule may name. */
export const PLATFORM_AUDIO_RATES = [48000, 44100] as const;

const ALL_ASPECTS = ['9:16', '16:9', '1:1', '4:5'] as const;
const ALL_RATES = [24, 25, 30, 60] as const;
const flat = (p1080: number, p720: number): BitrateCaps => ({ '1080p': { upTo30: p1080, above30: p1080 }, '720p': { upTo30: p720, above30: p720 } });
/** YouTube's recommended upload bitrates (SDR): 1080p 8 / 12 Mbit/s, 720p 5 / 7.5 Mbit/s at standard / high frame rates. */
const YOUTUBE_KBPS: BitrateCaps = { '1080p': { upTo30: 8000, above30: 12000 }, '720p': { upTo30: 5000, above30: 7500 } };
const YOUTUBE_SOURCES = ['https://support.google.com/youtube/answer/1722171'];

export const PLATFORM_SPECS: Record<Platform, PlatformSpec> = {
  tiktok: {
    label: 'TikTok',
    aspect_ratio: { preset: '9:16', allowed: ['9:16'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { max: 600 },
    max_file_mb: 4000,
    gop_s: 2,
    video_kbps: flat(10000, 6000),
    sources: ['https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide'],
  },
  'instagram-reels': {
    label: 'Instagram Reels',
    aspect_ratio: { preset: '9:16', allowed: ['9:16'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { min: 3, max: 900 },
    max_file_mb: 300,
    gop_s: 2,
    video_kbps: flat(25000, 25000),
    sources: ['https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications'],
  },
  'instagram-feed': {
    label: 'Instagram feed',
    aspect_ratio: { preset: '4:5', allowed: ['4:5', '1:1', '16:9'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { min: 3, max: 60 },
    max_file_mb: 100,
    gop_s: 2,
    video_kbps: flat(12000, 12000),
    sources: ['https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#video-specifications'],
  },
  'youtube-shorts': {
    label: 'YouTube Shorts',
    aspect_ratio: { preset: '9:16', allowed: ['9:16', '1:1'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { max: 180 },
    max_file_mb: 256000,
    gop_s: 0.5,
    video_kbps: YOUTUBE_KBPS,
    sources: ['https://support.google.com/youtube/answer/10059070', ...YOUTUBE_SOURCES],
  },
  youtube: {
    label: 'YouTube',
    aspect_ratio: { preset: '16:9', allowed: ['16:9'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: {},
    max_file_mb: 256000,
    gop_s: 0.5,
    video_kbps: YOUTUBE_KBPS,
    sources: YOUTUBE_SOURCES,
  },
  'facebook-reels': {
    label: 'Facebook Reels',
    aspect_ratio: { preset: '9:16', allowed: ['9:16'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { min: 3, max: 90 },
    max_file_mb: 1000,
    gop_s: 2,
    video_kbps: flat(25000, 25000),
    sources: ['https://developers.facebook.com/docs/video-api/guides/reels-publishing'],
  },
  shopify: {
    label: 'Shopify',
    aspect_ratio: { preset: '1:1', allowed: ALL_ASPECTS },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { max: 600 },
    max_file_mb: 1000,
    gop_s: 2,
    video_kbps: flat(10000, 6000),
    sources: ['https://help.shopify.com/en/manual/products/product-media/product-media-types'],
  },
  amazon: {
    label: 'Amazon',
    aspect_ratio: { preset: '16:9', allowed: ['16:9'] },
    resolution: '1080p',
    fps: { preset: 30, allowed: [24, 25, 30] },
    duration_s: { min: 6, max: 45 },
    max_file_mb: 500,
    gop_s: 2,
    video_kbps: flat(10000, 6000),
    sources: ['https://advertising.amazon.com/resources/ad-specs/sponsored-brands-video'],
  },
  'google-merchant': {
    label: 'Google Merchant Center',
    aspect_ratio: { preset: '1:1', allowed: ALL_ASPECTS },
    resolution: '1080p',
    fps: { preset: 30, allowed: ALL_RATES },
    duration_s: { min: 6, max: 240 },
    max_file_mb: 500,
    gop_s: 2,
    video_kbps: flat(10000, 6000),
    sources: ['https://support.google.com/merchants/answer/15216925'],
  },
};

/** The rules a job's options can break, named as the 422's `rule`. */
export const PLATFORM_RULES = ['min_duration_s', 'max_duration_s', 'aspect_ratio', 'fps'] as const;
export type PlatformRule = (typeof PLATFORM_RULES)[number];

export interface PlatformViolation {
  platform: Platform;
  rule: PlatformRule;
  /** the option the rule is about */
  option: 'duration_s' | 'aspect_ratio' | 'fps';
  value: number | string;
  /** the bound (a duration) or the values the platform takes */
  limit: number | readonly (string | number)[];
  /** the platform's published page for it */
  source: string;
  message: string;
}

const listed = (values: readonly (string | number)[]) => values.join(', ');

/**
 * What the job's explicit options break of its platform's rules, in
 * PLATFORM_RULES order; empty without a platform, or when nothing is broken.
 * Unset options break nothing: the preset sets them. Pure.
 */
export function checkPlatformRules(options: Pick<JobOptions, 'platform' | 'duration_s' | 'aspect_ratio' | 'fps'>): PlatformViolation[] {
  if (!options.platform) return [];
  const platform = options.platform;
  const spec = PLATFORM_SPECS[platform];
  const source = spec.sources[0]!;
  const violations: PlatformViolation[] = [];
  const duration = options.duration_s;
  if (duration !== undefined && spec.duration_s.min !== undefined && duration < spec.duration_s.min) {
    violations.push({ platform, rule: 'min_duration_s', option: 'duration_s', value: duration, limit: spec.duration_s.min, source, message: `${spec.label} takes videos of at least ${spec.duration_s.min} s; duration_s is ${duration}` });
  }
  if (duration !== undefined && spec.duration_s.max !== undefined && duration > spec.duration_s.max) {
    violations.push({ platform, rule: 'max_duration_s', option: 'duration_s', value: duration, limit: spec.duration_s.max, source, message: `${spec.label} takes videos of at most ${spec.duration_s.max} s; duration_s is ${duration}` });
  }
  const sets = [
    ['aspect_ratio', options.aspect_ratio, spec.aspect_ratio.allowed, 'aspect ratios'],
    ['fps', options.fps, spec.fps.allowed, 'frame rates'],
  ] as const;
  for (const [rule, value, allowed, what] of sets) {
    if (value === undefined || (allowed as readonly (string | number)[]).includes(value)) continue;
    violations.push({ platform, rule, option: rule, value, limit: allowed, source, message: `${spec.label} takes the ${what} ${listed(allowed)}; ${rule} is ${value}` });
  }
  return violations;
}

/** The encoding rules of a platform at a size and frame rate: what the instruction's encoding sentence states. */
export interface PlatformEncoding {
  platform: Platform;
  /** a keyframe every this many seconds, a closed GOP */
  gop_s: number;
  max_kbps: number;
  audio_hz: (typeof PLATFORM_AUDIO_RATES)[number];
}

/**
 * The options a platform job is rendered with: the preset's size and frame
 * rate where the job sets none, and a duration where it sets none (the
 * engine's default for its pictures, moved into the platform's range). A job
 * without a platform is returned as it is.
 */
export function withPlatformPreset(options: JobOptions, pictures: number): JobOptions {
  if (!options.platform) return options;
  const spec = PLATFORM_SPECS[options.platform];
  const { min = 1, max = Infinity } = spec.duration_s;
  return {
    ...options,
    aspect_ratio: options.aspect_ratio ?? spec.aspect_ratio.preset,
    resolution: options.resolution ?? spec.resolution,
    fps: options.fps ?? spec.fps.preset,
    duration_s: options.duration_s ?? Math.min(Math.max(defaultDurationS(pictures), min), max),
  };
}

/** The encoding rules of a job's platform, for the size and frame rate it is rendered at; undefined without a platform. */
export function platformEncoding(options: JobOptions): PlatformEncoding | undefined {
  if (!options.platform) return undefined;
  const spec = PLATFORM_SPECS[options.platform];
  const caps = spec.video_kbps[options.resolution ?? spec.resolution];
  const fps = options.fps ?? spec.fps.preset;
  return { platform: options.platform, gop_s: spec.gop_s, max_kbps: fps > 30 ? caps.above30 : caps.upTo30, audio_hz: PLATFORM_AUDIO.hz };
}

const SECONDS_PER_PICTURE = 3;
const SINGLE_PICTURE_S = 5;
const MAX_DEFAULT_S = 60;

/** A clip's length when the job sets none: 5 s for one picture, 3 s a picture for several (at most a minute). */
export function defaultDurationS(pictures: number): number {
  return pictures > 1 ? Math.min(SECONDS_PER_PICTURE * pictures, MAX_DEFAULT_S) : SINGLE_PICTURE_S;
}
