import type { AudioOption, Caption, JobOptions } from '../shared/jobs/job-options.ts';

/** What the worker has uploaded to the session besides the instruction. */
export interface InstructionMedia {
  images: number;
  audio: boolean;
}

/**
 * One plain-language instruction from the prompt and the options, readable by
 * a person and by the backend's agent: the prompt first, then one sentence per
 * option group, so that where they disagree the explicit option is the last
 * word. The sentences have fixed shapes (docs/instructions.md) that the
 * embedded engine reads back exactly; numbers are printed the way JavaScript
 * prints them, the shortest text that reads back to the same number, and
 * caption text is a JSON string literal so that any character survives.
 */
export function composeInstruction(prompt: string, options: JobOptions, media: InstructionMedia, { revision = false } = {}): string {
  const sentences = [
    promptSentence(prompt, media.images),
    motionSentence(options),
    options.duration_s === undefined ? undefined : `Duration: ${seconds(options.duration_s)}.`,
    formatSentence(options),
    fitSentence(options),
    transitionSentence(options),
    // a revision's captions are its timeline's captions from now on, not more of them
    revision && options.text?.length ? 'Replace the earlier captions with the following.' : undefined,
    ...(options.text ?? []).map(captionSentence),
    options.audio || media.audio ? musicSentence(options.audio ?? {}) : undefined,
  ];
  return sentences.filter((sentence) => sentence !== undefined).join(' ');
}

const num = (n: number) => String(n);
const seconds = (n: number) => `${num(n)} ${n === 1 ? 'second' : 'seconds'}`;
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The prompt on one line, or a request that sets no option of its own. */
function promptSentence(prompt: string, images: number): string {
  const trimmed = prompt.trim().replace(/\s+/g, ' ');
  if (!trimmed) return images > 1 ? 'Turn these photos into a video.' : 'Animate this image.';
  return /[.!?。！？]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function motionSentence({ motion, motion_intensity: intensity }: JobOptions): string | undefined {
  if (motion) return `Motion: ${motion}${intensity ? `, ${intensity} intensity` : ''}.`;
  return intensity && `Motion intensity: ${intensity}.`;
}

/** e.g. "Aspect ratio 9:16 at 1080p, 30 fps, high quality." */
function formatSentence({ aspect_ratio: aspect, resolution, fps, quality }: JobOptions): string | undefined {
  const size = aspect ? `aspect ratio ${aspect}${resolution ? ` at ${resolution}` : ''}` : resolution && `resolution ${resolution}`;
  const clauses = [size, fps && `${fps} fps`, quality && `${quality} quality`].filter(Boolean);
  return clauses.length > 0 ? `${capitalized(clauses.join(', '))}.` : undefined;
}

function fitSentence({ fit, background }: JobOptions): string | undefined {
  if (fit) return `Fit: ${fit}${background ? ` on a ${background} background` : ''}.`;
  return background && `Background colour ${background}.`;
}

function transitionSentence({ transition, transition_s: length }: JobOptions): string | undefined {
  if (transition) return `Transitions: ${transition}${length === undefined ? '' : `, ${seconds(length)} each`}.`;
  return length === undefined ? undefined : `Transition length: ${seconds(length)}.`;
}

/** e.g. `Add the text "Summer Sale" at the top from 0 s to 3 s, large size, colour #ffcc00.` */
function captionSentence(caption: Caption): string {
  const where = caption.position === undefined ? '' : caption.position === 'center' ? ' in the center' : ` at the ${caption.position}`;
  const size = caption.size ? `, ${caption.size} size` : '';
  const color = caption.color ? `, colour ${caption.color}` : '';
  return `Add the text ${JSON.stringify(caption.text)}${where} from ${num(caption.start_s)} s to ${num(caption.end_s)} s${size}${color}.`;
}

/** e.g. "Use the uploaded audio as background music at 35% volume, fading out over the last 1 second." */
function musicSentence(audio: AudioOption): string {
  const volume = audio.volume === undefined ? '' : volumeClause(audio.volume);
  const fade = audio.fade_out_s === undefined ? '' : audio.fade_out_s === 0 ? ', with no fade-out' : `, fading out over the last ${seconds(audio.fade_out_s)}`;
  return `Use the uploaded audio as background music${volume}${fade}.`;
}

/** A percentage when one reads back to exactly this volume (0.35 → "35%"), else the fraction itself. */
function volumeClause(volume: number): string {
  const percent = Number((volume * 100).toPrecision(12));
  return percent / 100 === volume ? ` at ${num(percent)}% volume` : ` at volume ${num(volume)}`;
}
