import { z } from 'zod';
import { BADGE_SHAPES, CORNERS, FITS, FONT_FAMILIES, FONT_WEIGHTS, hexColor, MOTIONS, QUALITIES, MAX_BADGE_CHARS, TEXT_OVERFLOWS, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS } from './draft.ts';

export const ASPECT_RATIOS = ['9:16', '16:9', '1:1', '4:5'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export const RESOLUTIONS = ['1080p', '720p'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const FRAME_RATES = [24, 25, 30, 60] as const;
/** The platform presets (`options.platform`); their rules are src/shared/jobs/platforms.ts. */
export const PLATFORMS = [
  'tiktok', 'instagram-reels', 'instagram-feed', 'youtube-shorts', 'youtube', 'facebook-reels', 'shopify', 'amazon', 'google-merchant',
] as const;
export type Platform = (typeof PLATFORMS)[number];
export const MOTION_INTENSITIES = ['subtle', 'normal', 'strong'] as const;
export type MotionIntensity = (typeof MOTION_INTENSITIES)[number];

/** How far each intensity moves the picture (the draft segment's `m.intensity`). */
export const INTENSITY_AMOUNT: Record<MotionIntensity, number> = { subtle: 0.08, normal: 0.15, strong: 0.3 };

export const MAX_CAPTIONS = 20;
export const MAX_CAPTION_CHARS = 2000;

export const captionSchema = z
  .object({
    text: z.string().min(1).max(MAX_CAPTION_CHARS),
    start_s: z.number().min(0).max(60),
    end_s: z.number().min(0).max(60),
    position: z.enum(TEXT_POSITIONS).optional(),
    size: z.enum(TEXT_SIZES).optional(),
    color: hexColor.optional(),
    font: z.enum(FONT_FAMILIES).optional().describe('unset: DejaVu Sans, or Noto Sans CJK for text DejaVu has no glyphs for (Chinese, Japanese, Korean)'),
    weight: z.enum(FONT_WEIGHTS).optional(),
    box_color: hexColor.optional().describe('the box behind the text (default #000000)'),
    box_opacity: z.number().min(0).max(1).optional().describe('0 draws no box (default 0.5)'),
    overflow: z.enum(TEXT_OVERFLOWS).optional().describe('a line too wide for the frame: `wrap` (default) breaks it, `shrink` makes the text smaller until it fits'),
  })
  .strict()
  .refine((c) => c.end_s > c.start_s, { message: 'end_s must be after start_s', path: ['end_s'] });

export type Caption = z.infer<typeof captionSchema>;

export const audioOptionSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(2048).optional().describe('background music to fetch; or send a multipart part named `audio`'),
    volume: z.number().min(0).max(1).optional(),
    fade_out_s: z.number().min(0).max(10).optional(),
  })
  .strict();

export type AudioOption = z.infer<typeof audioOptionSchema>;

export const logoOptionSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(2048).optional().describe('the logo to fetch (PNG with transparency works best); or send a multipart part named `logo`'),
    corner: z.enum(CORNERS).optional().describe('default top-right'),
    size: z.number().min(0.05).max(0.5).optional().describe("the logo's width as a fraction of the video's (default 0.2)"),
    opacity: z.number().min(0).max(1).optional().describe('default 1'),
    margin: z.number().min(0).max(0.2).optional().describe("from the video's edges, a fraction of its width (default 0.04)"),
  })
  .strict();

export type LogoOption = z.infer<typeof logoOptionSchema>;

export const badgeOptionSchema = z
  .object({
    text: z.string().min(1).max(MAX_BADGE_CHARS).describe('e.g. "€19.99" or "-30%"'),
    corner: z.enum(CORNERS).optional().describe('default top-left'),
    color: hexColor.optional().describe('the text (default #ffffff)'),
    background: hexColor.optional().describe('the shape (default #e11d48)'),
    shape: z.enum(BADGE_SHAPES).optional().describe('default rounded'),
    size: z.enum(TEXT_SIZES).optional().describe('default medium'),
  })
  .strict();

export type BadgeOption = z.infer<typeof badgeOptionSchema>;

/** The containers and codecs a rendition can be: H.264 MP4, VP9 + Opus WebM, a palette GIF (no audio), H.265 MP4 tagged hvc1. */
export const OUTPUT_FORMATS = ['mp4', 'webm', 'gif', 'mp4-hevc'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const MAX_OUTPUTS = 6;

export const outputOptionSchema = z
  .object({
    aspect_ratio: z.enum(ASPECT_RATIOS).optional().describe("the job's aspect_ratio when unset"),
    resolution: z.enum(RESOLUTIONS).optional().describe("the job's resolution when unset"),
    format: z.enum(OUTPUT_FORMATS).optional().describe('mp4 (H.264, the default), webm (VP9 + Opus), gif (palette-optimised, no audio) or mp4-hevc (H.265, hvc1 tag)'),
  })
  .strict();
export type OutputOption = z.infer<typeof outputOptionSchema>;

/** What a client may ask of a clip; every field optional, defaults filled by the backend's agent. */
export const jobOptionsSchema = z
  .object({
    duration_s: z.number().min(1).max(60).optional(),
    aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
    resolution: z.enum(RESOLUTIONS).optional(),
    fps: z.union(FRAME_RATES.map((n) => z.literal(n))).optional(),
    quality: z.enum(QUALITIES).optional(),
    motion: z.enum(MOTIONS).optional(),
    motion_intensity: z.enum(MOTION_INTENSITIES).optional(),
    fit: z.enum(FITS).optional(),
    background: hexColor.optional(),
    transition: z.enum(TRANSITIONS).optional(),
    transition_s: z.number().min(0.2).max(2).optional(),
    text: z.array(captionSchema).max(MAX_CAPTIONS).optional(),
    audio: audioOptionSchema.optional(),
    cache: z
      .boolean()
      .optional()
      .describe('false: render even when the same inputs and options were rendered before, and keep this render out of the render cache (default true)'),
    logo: logoOptionSchema.optional(),
    badge: badgeOptionSchema.optional(),
    outputs: z
      .array(outputOptionSchema)
      .min(1)
      .max(MAX_OUTPUTS)
      .optional()
      .describe('renditions of the one clip, rendered by one job: the first is the video_url, every one is listed in result.outputs'),
    platform: z
      .enum(PLATFORMS)
      .optional()
      .describe(
        "a platform preset: the platform's size, frame rate and encoding rules (closed GOP, constant frame rate, AAC 48 kHz, a bitrate cap, faststart), and a duration in its range when `duration_s` is unset; options the platform does not take are refused with `422 platform_constraint` (docs/platforms.md)",
      ),
  })
  .strict();

export type JobOptions = z.infer<typeof jobOptionsSchema>;

const SIZES: Record<Resolution, Record<AspectRatio, [number, number]>> = {
  '1080p': { '9:16': [1080, 1920], '16:9': [1920, 1080], '1:1': [1080, 1080], '4:5': [1080, 1350] },
  '720p': { '9:16': [720, 1280], '16:9': [1280, 720], '1:1': [720, 720], '4:5': [720, 900] },
};

export function outputSize(aspect: AspectRatio, resolution: Resolution): { width: number; height: number } {
  const [width, height] = SIZES[resolution][aspect];
  return { width, height };
}

/** The aspect ratio and resolution a size is, when it is one of the named sizes; null for each otherwise. */
export function sizeName(width: number, height: number): { aspect_ratio: AspectRatio | null; resolution: Resolution | null } {
  for (const resolution of RESOLUTIONS) {
    for (const aspect of ASPECT_RATIOS) {
      const [w, h] = SIZES[resolution][aspect];
      if (w === width && h === height) return { aspect_ratio: aspect, resolution };
    }
  }
  return { aspect_ratio: null, resolution: null };
}

/** The indexes of `options.outputs` that repeat an earlier rendition (unset fields filled from the job's own). */
export function repeatedOutputs(options: JobOptions): number[] {
  const seen = new Set<string>();
  const repeated: number[] = [];
  for (const [n, output] of (options.outputs ?? []).entries()) {
    const name = [output.aspect_ratio ?? options.aspect_ratio, output.resolution ?? options.resolution, output.format ?? 'mp4'].join(' ');
    if (seen.has(name)) repeated.push(n);
    seen.add(name);
  }
  return repeated;
}
