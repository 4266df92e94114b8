import { z } from 'zod';
import { FITS, hexColor, MOTIONS, QUALITIES, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS } from './draft.ts';

export const ASPECT_RATIOS = ['9:16', '16:9', '1:1', '4:5'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export const RESOLUTIONS = ['1080p', '720p'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const FRAME_RATES = [24, 25, 30, 60] as const;
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
