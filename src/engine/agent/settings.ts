import type { Fit, Motion, QUALITIES, TEXT_POSITIONS, TEXT_SIZES, Transition } from '../../shared/jobs/draft.ts';
import type { AspectRatio, FRAME_RATES, MotionIntensity, Resolution } from '../../shared/jobs/job-options.ts';
import type { AgentRequest } from './request.ts';

export type FrameRate = (typeof FRAME_RATES)[number];
export type Quality = (typeof QUALITIES)[number];

export interface CaptionSettings {
  text: string;
  start_s: number;
  end_s: number;
  position: (typeof TEXT_POSITIONS)[number];
  size: (typeof TEXT_SIZES)[number];
  color: string;
}

/** Every option with a value: a request with the agent's defaults filled in. */
export interface Settings {
  duration_s: number;
  aspect_ratio: AspectRatio;
  resolution: Resolution;
  fps: FrameRate;
  quality: Quality;
  motion: Motion;
  motion_intensity: MotionIntensity;
  fit: Fit;
  background: string;
  transition: Transition;
  transition_s: number;
  text: CaptionSettings[];
  /** background music, when asked for */
  audio?: { volume: number; fade_out_s: number };
}

export const DEFAULTS = {
  aspect_ratio: '9:16',
  resolution: '1080p',
  fps: 30,
  quality: 'standard',
  motion: 'ken-burns',
  motion_intensity: 'normal',
  fit: 'cover',
  background: '#000000',
  transition: 'fade',
  transition_s: 0.5,
  caption: { position: 'bottom', size: 'medium', color: '#ffffff' },
  audio: { volume: 0.35, fade_out_s: 1 },
} as const satisfies Omit<Settings, 'duration_s' | 'text' | 'audio'> & { caption: Partial<CaptionSettings>; audio: Settings['audio'] };

const SECONDS_PER_PHOTO = 3;
const SINGLE_PHOTO_S = 5;
const MAX_DURATION_S = 60;

/** 5 s for one picture, 3 s a picture for several (at most a minute). */
export function defaultDuration(pictures: number): number {
  return pictures > 1 ? Math.min(SECONDS_PER_PHOTO * pictures, MAX_DURATION_S) : SINGLE_PHOTO_S;
}

export function resolveSettings(request: AgentRequest, pictures: number): Settings {
  const duration_s = request.duration_s ?? defaultDuration(pictures);
  const { caption: captionDefaults, audio: audioDefaults, ...defaults } = DEFAULTS;
  return {
    ...defaults,
    ...request,
    duration_s,
    text: (request.text ?? []).map((caption) => ({ start_s: 0, end_s: duration_s, ...captionDefaults, ...caption })),
    audio: request.audio && { ...audioDefaults, ...request.audio },
  };
}
