import type { JobOptions } from '../shared/job-options.ts';

/**
 * One plain-language instruction from the prompt and the options, readable by
 * a person and by the backend's agent. Options are spelled out after the
 * prompt so that, where they disagree, the explicit option is the last word.
 */
export function composeInstruction(prompt: string, options: JobOptions, imageCount: number): string {
  const sentences: string[] = [];
  const trimmed = prompt.trim().replace(/\s+/g, ' ');
  if (trimmed) sentences.push(/[.!?。！？]$/.test(trimmed) ? trimmed : `${trimmed}.`);
  else sentences.push(imageCount > 1 ? 'Turn these photos into a video.' : 'Animate this image with a slow zoom-in.');
  if (options.motion) sentences.push(`Motion: ${options.motion}.`);
  if (options.duration_s !== undefined) sentences.push(`Duration: ${options.duration_s} seconds.`);
  const format = [
    options.aspect_ratio && `Aspect ratio ${options.aspect_ratio}`,
    options.resolution && `at ${options.resolution}`,
  ].filter(Boolean);
  if (format.length > 0) sentences.push(`${format.join(' ')}${options.fps ? `, ${options.fps} fps` : ''}.`);
  else if (options.fps) sentences.push(`${options.fps} fps.`);
  return sentences.join(' ');
}
