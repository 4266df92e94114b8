import type { AudioOption, Caption, JobOptions } from '../../shared/jobs/job-options.ts';

/** A caption as an instruction states it; free phrasings may leave out the timing (then it spans the video). */
export type RequestCaption = Omit<Caption, 'start_s' | 'end_s'> & Partial<Pick<Caption, 'start_s' | 'end_s'>>;

/** Background music: always "the uploaded audio", never a URL. */
export type RequestAudio = Omit<AudioOption, 'url'>;

/**
 * What an instruction asks for, in the job options' vocabulary and with their
 * key names: only what the text says, no defaults, and no key whose value is
 * undefined (requests are merged by spreading).
 */
export type AgentRequest = Omit<JobOptions, 'text' | 'audio'> & {
  text?: RequestCaption[];
  audio?: RequestAudio;
};

/** `later` over `earlier`: captions add up, music settings merge, any other option is replaced. */
export function overlay(earlier: AgentRequest, later: AgentRequest): AgentRequest {
  const merged: AgentRequest = { ...earlier, ...later };
  if (earlier.text && later.text) merged.text = [...earlier.text, ...later.text];
  if (earlier.audio && later.audio) merged.audio = { ...earlier.audio, ...later.audio };
  return merged;
}

/** `{ key: value }` for each value present: no key is left undefined. */
export function present<T extends object>(entries: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as T;
}
