import { MOTION_INTENSITIES, type MotionIntensity } from '../../shared/jobs/job-options.ts';
import type { AgentRequest } from './request.ts';

/**
 * Follow-up edits: what a later instruction of the session changes in the
 * request behind the current draft rather than states as an option (the
 * phrases that say so are in grammar.ts, section 2).
 */
export interface FollowUpEdits {
  /** motion intensity one step down (strong → normal → subtle) or up */
  intensity?: 'lower' | 'higher';
  /** no background music */
  removeMusic?: true;
  /** no captions */
  removeText?: true;
  /** the first caption's text; a caption spanning the video when there was none */
  captionText?: string;
  /** the instruction's own captions replace the earlier ones (a revision's caption options, see grammar.ts) */
  replaceCaptions?: true;
}

function stepIntensity(from: MotionIntensity, direction: 'lower' | 'higher'): MotionIntensity {
  const index = MOTION_INTENSITIES.indexOf(from) + (direction === 'lower' ? -1 : 1);
  return MOTION_INTENSITIES[Math.max(0, Math.min(MOTION_INTENSITIES.length - 1, index))] ?? from;
}

/** The request with the edits applied; `defaultIntensity` is where a relative step starts when none was asked for. */
export function applyFollowUpEdits(request: AgentRequest, edits: FollowUpEdits, defaultIntensity: MotionIntensity): AgentRequest {
  const edited: AgentRequest = { ...request };
  if (edits.removeMusic) delete edited.audio;
  if (edits.removeText) delete edited.text;
  if (edits.captionText !== undefined) {
    const [first, ...rest] = edited.text ?? [];
    edited.text = [{ ...first, text: edits.captionText }, ...rest];
  }
  if (edits.intensity) edited.motion_intensity = stepIntensity(request.motion_intensity ?? defaultIntensity, edits.intensity);
  if (edits.replaceCaptions) delete edited.text;
  return edited;
}
