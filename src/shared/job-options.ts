import { z } from 'zod';
import { MOTIONS } from './draft.ts';

export const ASPECT_RATIOS = ['9:16', '16:9', '1:1', '4:5'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export const RESOLUTIONS = ['1080p', '720p'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const FRAME_RATES = [24, 25, 30, 60] as const;

/** What a client may ask of a clip; every field optional, defaults filled by the backend's agent. */
export const jobOptionsSchema = z
  .object({
    duration_s: z.number().min(1).max(60).optional(),
    aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
    resolution: z.enum(RESOLUTIONS).optional(),
    fps: z.union(FRAME_RATES.map((n) => z.literal(n))).optional(),
    motion: z.enum(MOTIONS).optional(),
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
