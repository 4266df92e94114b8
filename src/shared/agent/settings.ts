import type { BadgeShape, Corner, Fit, FontFamily, FontWeight, Motion, QUALITIES, TEXT_OVERFLOWS, TEXT_POSITIONS, TEXT_SIZES, Transition } from '../../shared/jobs/draft.ts';
import type { AspectRatio, FRAME_RATES, MotionIntensity, Resolution } from '../../shared/jobs/job-options.ts';
import { defaultDurationS, type PlatformEncoding } from '../../shared/jobs/platforms.ts';
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
  /** the caption styles a request set; the renderer has the defaults of those it did not */
  font?: FontFamily;
  weight?: FontWeight;
  box_color?: string;
  box_opacity?: number;
  overflow?: (typeof TEXT_OVERFLOWS)[number];
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
  /** the logo, when asked for: `file` names one of the uploaded pictures */
  logo?: { file: string; corner: Corner; size: number; opacity: number; margin: number };
  badge?: { text: string; corner: Corner; shape: BadgeShape; size: (typeof TEXT_SIZES)[number]; color: string; background: string };
  /** a platform preset's encoding rules, when asked for */
  encoding?: PlatformEncoding;
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
  logo: { corner: 'top-right', size: 0.2, opacity: 1, margin: 0.04 },
  badge: { corner: 'top-left', shape: 'rounded', size: 'medium', color: '#ffffff', background: '#e11d48' },
} as const satisfies Omit<Settings, 'duration_s' | 'text' | 'audio' | 'logo' | 'badge' | 'encoding'> & {
  caption: Partial<CaptionSettings>;
  audio: Settings['audio'];
  logo: Omit<NonNullable<Settings['logo']>, 'file'>;
  badge: Omit<NonNullable<Settings['badge']>, 'text'>;
};


export function resolveSettings(request: AgentRequest, pictures: number): Settings {
  const duration_s = request.duration_s ?? defaultDurationS(pictures);
  const { caption: captionDefaults, audio: audioDefaults, logo: logoDefaults, badge: badgeDefaults, ...defaults } = DEFAULTS;
  return {
    ...defaults,
    ...request,
    duration_s,
    text: (request.text ?? []).map((caption) => ({ start_s: 0, end_s: duration_s, ...captionDefaults, ...caption })),
    audio: request.audio && { ...audioDefaults, ...request.audio },
    logo: request.logo && { ...logoDefaults, ...request.logo },
    badge: request.badge && { ...badgeDefaults, ...request.badge },
  };
}
