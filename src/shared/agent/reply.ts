import { TRACK_TYPE, type Draft, type Motion } from '../../shared/jobs/draft.ts';
import { MOTION_INTENSITIES } from '../../shared/jobs/job-options.ts';
import type { Settings } from './settings.ts';

/**
 * What the agent says, in the cloud backend's voice, which assumes a GUI
 * ("preview it in the timeline", "click Export"); the client maps those
 * phrases to API calls.
 */

const MOTION_PHRASES: Record<Motion, string> = {
  'zoom-in': 'zoom-in',
  'zoom-out': 'zoom-out',
  'pan-left': 'pan to the left',
  'pan-right': 'pan to the right',
  'pan-up': 'upward pan',
  'pan-down': 'downward pan',
  'ken-burns': 'Ken Burns move',
  static: 'still shot',
};

const PACE = { subtle: 'slow ', normal: '', strong: 'dynamic ' } as const;
const CLOSING = "You can preview it in the timeline, and open the motion panel to fine-tune it. Click Export when you're ready.";

const percent = (volume: number) => `${Math.round(volume * 100)}%`;
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const canvas = (draft: Draft) => `${draft.m.width}×${draft.m.height}`;

export const NO_MEDIA_REPLY =
  "I don't see an image in this project yet. Drag a photo onto the timeline or upload one, then tell me how to animate it.";

export const NO_AUDIO_NOTE =
  "No audio file was uploaded, so I haven't added background music; upload one (mp3, wav, m4a or aac) and ask again.";

export const noLogoNote = (file: string) => `No picture named ${JSON.stringify(file)} was uploaded, so I haven't added the logo; upload it with the photos and ask again.`;

export const UNCHANGED_REPLY = "Your timeline already looks like that, so I haven't changed anything. Preview it in the timeline, or click Export when you're ready.";

export const EXPORT_READY_REPLY = "Your video is ready to export: click Export and I'll render the MP4.";

/** The embedded engine has no generative model: what it tells the user, and the in-stream error's message. */
export const CAPABILITY_REFUSAL = {
  text:
    "I can't do that here. This is i2v's embedded engine: it animates your photos with camera moves, transitions, captions and music, " +
    'but it has no model to generate video with AI (diffusion, PixVerse). Nothing was changed and no credits were used.',
  errorMessage:
    'The embedded engine cannot generate video with a model. For the generative presets (diffusion, pixverse), ' +
    'set BACKEND_URL to the cloud backend (https://mega-api-prod.nemovideo.ai) and NEMO_TOKEN to its token.',
};

/** After a first instruction: what the new timeline holds. */
export function creationReply(settings: Settings, draft: Draft, notes: readonly string[]): string {
  const pictures = draft.t[0]?.sg.length ?? 0;
  const what = pictures === 1 ? 'your image' : `your ${pictures} images`;
  const transitions = pictures > 1 && settings.transition !== 'none' ? `, joined by ${settings.transition} transitions` : '';
  const sentences = [
    `I've added a ${settings.duration_s}s ${PACE[settings.motion_intensity]}${MOTION_PHRASES[settings.motion]} to ${what} on a ${settings.aspect_ratio} canvas ` +
      `(${canvas(draft)}, ${settings.fps} fps)${transitions}.`,
  ];
  if (settings.text.length > 0) sentences.push(`I've put ${plural(settings.text.length, 'caption')} on the text track.`);
  if (settings.audio && draft.t.some((track) => track.tt === TRACK_TYPE.audio)) {
    sentences.push(`The uploaded audio plays as background music at ${percent(settings.audio.volume)} volume.`);
  }
  if (settings.logo && draft.t.some((track) => track.tt === TRACK_TYPE.logo)) sentences.push(`Your logo sits in the ${settings.logo.corner} corner.`);
  if (settings.badge) sentences.push(`The badge ${JSON.stringify(settings.badge.text)} is in the ${settings.badge.corner} corner.`);
  if (settings.encoding) sentences.push(`It is encoded for ${settings.encoding.platform}: a keyframe every ${settings.encoding.gop_s}s, at most ${settings.encoding.max_kbps} kbps.`);
  return [...sentences, ...notes, CLOSING].join(' ');
}

type Describer = (after: Settings, before: Settings, draft: Draft) => string;

/** One phrase per option that a follow-up changed. */
const CHANGE_PHRASES: { [K in keyof Settings]-?: Describer } = {
  duration_s: (after) => `the video is now ${after.duration_s}s long`,
  aspect_ratio: (after, _, draft) => `the canvas is now ${after.aspect_ratio} (${canvas(draft)})`,
  resolution: (after, _, draft) => `the output is now ${after.resolution} (${canvas(draft)})`,
  fps: (after) => `it now plays at ${after.fps} fps`,
  quality: (after) => `the export quality is now ${after.quality}`,
  motion: (after) => `the motion is now a ${MOTION_PHRASES[after.motion]}`,
  motion_intensity: (after, before) => {
    const slower = MOTION_INTENSITIES.indexOf(after.motion_intensity) < MOTION_INTENSITIES.indexOf(before.motion_intensity);
    return `the motion is ${slower ? 'slower' : 'stronger'} now (${after.motion_intensity})`;
  },
  fit: (after) => `the pictures now use the ${after.fit} fit`,
  background: (after) => `the background is now ${after.background}`,
  transition: (after) => (after.transition === 'none' ? 'the pictures now cut without transitions' : `the transitions are now ${after.transition}`),
  transition_s: (after) => `the transitions now last ${after.transition_s}s`,
  text: (after, before) => {
    if (after.text.length === 0) return 'I removed the captions';
    if (after.text.length === before.text.length && after.text[0]) return `the caption now reads ${JSON.stringify(after.text[0].text)}`;
    return `there ${after.text.length === 1 ? 'is' : 'are'} now ${plural(after.text.length, 'caption')}`;
  },
  audio: (after) => (after.audio ? `the background music is at ${percent(after.audio.volume)} volume` : 'I removed the background music'),
  logo: (after) => (after.logo ? `the logo is now in the ${after.logo.corner} corner at ${percent(after.logo.size)} of the width` : 'I removed the logo'),
  badge: (after) => (after.badge ? `the badge now reads ${JSON.stringify(after.badge.text)}` : 'I removed the badge'),
  encoding: (after) => (after.encoding ? `it is now encoded for ${after.encoding.platform}` : 'it no longer follows a platform preset'),
};

/** The options whose value differs between two settings. */
export function changedOptions(before: Settings, after: Settings): (keyof Settings)[] {
  const keys = Object.keys(CHANGE_PHRASES) as (keyof Settings)[];
  return keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

/** After a follow-up: what changed. */
export function updateReply(before: Settings, after: Settings, draft: Draft, notes: readonly string[]): string {
  const changes = changedOptions(before, after).map((key) => CHANGE_PHRASES[key](after, before, draft));
  const summary = changes.length > 0 ? `Done: ${changes.join('; ')}.` : "Done: I've refreshed the timeline with your latest upload.";
  return [summary, ...notes, "Preview it in the timeline, and click Export when you're ready."].join(' ');
}
