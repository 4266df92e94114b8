import type { AudioOption, Caption, JobOptions, LogoOption } from '../../shared/jobs/job-options.ts';
import type { PlatformEncoding } from '../../shared/jobs/platforms.ts';

/** A caption as an instruction states it; free phrasings may leave out the timing (then it spans the video). */
export type RequestCaption = Omit<Caption, 'start_s' | 'end_s'> & Partial<Pick<Caption, 'start_s' | 'end_s'>>;

/** Background music: always "the uploaded audio", never a URL. */
export type RequestAudio = Omit<AudioOption, 'url'>;

/** A logo: one of the uploaded pictures, named by its file name, never a URL. */
export type RequestLogo = Omit<LogoOption, 'url'> & { file: string };

/**
 * What an instruction asks for, in the job options' vocabulary and with their
 * key names: only what the text says, no defaults, and no key whose value is
 * undefined (requests are merged by spreading).
 */
export type AgentRequest = Omit<JobOptions, 'text' | 'audio' | 'logo' | 'platform'> & {
  text?: RequestCaption[];
  audio?: RequestAudio;
  logo?: RequestLogo;
  /** a platform preset's encoding rules; its size, frame rate and duration come as those options */
  encoding?: PlatformEncoding;
};

/** `later` over `earlier`: captions add up, music and logo settings merge, any other option is replaced. */
export function overlay(earlier: AgentRequest, later: AgentRequest): AgentRequest {
  const merged: AgentRequest = { ...earlier, ...later };
  if (earlier.text && later.text) merged.text = [...earlier.text, ...later.text];
  if (earlier.audio && later.audio) merged.audio = { ...earlier.audio, ...later.audio };
  if (earlier.logo && later.logo) merged.logo = { ...earlier.logo, ...later.logo };
  return merged;
}

/** `{ key: value }` for each value present: no key is left undefined. */
export function present<T extends object>(entries: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as T;
}
