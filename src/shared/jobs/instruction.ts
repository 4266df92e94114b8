import type { AudioOption, BadgeOption, Caption, JobOptions, LogoOption, OutputOption } from './job-options.ts';
import type { JobRecord } from './job-record.ts';
import { platformEncoding, withPlatformPreset, type PlatformEncoding } from './platforms.ts';

/** What the worker has uploaded to the session besides the instruction. */
export interface InstructionMedia {
  images: number;
  audio: boolean;
  /** the file name the logo was uploaded with */
  logo?: string;
}

/** A job's uploads: the logo is the last file uploaded (upload.ts), under the name the backend gave it. */
export function instructionMedia(job: Pick<JobRecord, 'inputs' | 'checkpoint'>): InstructionMedia {
  const hasLogo = job.inputs.some((input) => input.role === 'logo');
  return {
    images: job.inputs.filter((input) => input.role === 'image').length,
    audio: job.inputs.some((input) => input.role === 'audio'),
    ...(hasLogo && { logo: job.checkpoint.uploaded?.at(-1)?.filename }),
  };
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
export function composeInstruction(prompt: string, asked: JobOptions, media: InstructionMedia, { revision = false } = {}): string {
  // a platform preset states its size, frame rate and duration as those options, and its encoding rules in a sentence of their own
  const options = withPlatformPreset(asked, media.images);
  const encoding = platformEncoding(options);
  const sentences = [
    promptSentence(prompt, media.images),
    motionSentence(options),
    options.duration_s === undefined ? undefined : `Duration: ${seconds(options.duration_s)}.`,
    formatSentence(options),
    encoding && encodingSentence(encoding),
    options.outputs && renditionsSentence(options.outputs, options),
    fitSentence(options),
    transitionSentence(options),
    // a revision's captions are its timeline's captions from now on, not more of them
    revision && options.text?.length ? 'Replace the earlier captions with the following.' : undefined,
    ...(options.text ?? []).map(captionSentence),
    options.audio || media.audio ? musicSentence(options.audio ?? {}) : undefined,
    media.logo === undefined ? undefined : logoSentence(media.logo, options.logo ?? {}),
    options.badge && badgeSentence(options.badge),
  ];
  return sentences.filter((sentence) => sentence !== undefined).join(' ');
}

/** The instruction of a job: its prompt and options, with what its inputs upload (pictures, then music, then the logo). */
export function jobInstruction(job: Pick<JobRecord, 'prompt' | 'options' | 'inputs' | 'parentId' | 'checkpoint'>): string {
  return composeInstruction(job.prompt, job.options, instructionMedia(job), { revision: Boolean(job.parentId) });
}

const num = (n: number) => String(n);
const seconds = (n: number) => `${num(n)} ${n === 1 ? 'second' : 'seconds'}`;
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
/** The clauses that are set, each after a comma. */
const commaClauses = (...parts: (string | false | undefined | 0)[]) => parts.filter(Boolean).map((part) => `, ${part}`).join('');

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

/** e.g. "Encoding for youtube: a closed GOP of 0.5 seconds, constant frame rate, video at most 8000 kbps, AAC audio at 48000 Hz, faststart." */
function encodingSentence({ platform, gop_s, max_kbps, audio_hz }: PlatformEncoding): string {
  return `Encoding for ${platform}: a closed GOP of ${seconds(gop_s)}, constant frame rate, video at most ${num(max_kbps)} kbps, AAC audio at ${audio_hz} Hz, faststart.`;
}

/**
 * e.g. "Renditions: 9:16 at 1080p as mp4; 1:1 at 720p as gif; 16:9 as webm."
 * Each rendition's unset size comes from the job's; a size neither sets is
 * left to the backend's default, so the clause leaves it out.
 */
function renditionsSentence(outputs: readonly OutputOption[], job: JobOptions): string {
  const rendition = (output: OutputOption) => {
    const aspect = output.aspect_ratio ?? job.aspect_ratio;
    const resolution = output.resolution ?? job.resolution;
    return [aspect, resolution && `at ${resolution}`, `as ${output.format ?? 'mp4'}`].filter(Boolean).join(' ');
  };
  return `Renditions: ${outputs.map(rendition).join('; ')}.`;
}

function fitSentence({ fit, background }: JobOptions): string | undefined {
  if (fit) return `Fit: ${fit}${background ? ` on a ${background} background` : ''}.`;
  return background && `Background colour ${background}.`;
}

function transitionSentence({ transition, transition_s: length }: JobOptions): string | undefined {
  if (transition) return `Transitions: ${transition}${length === undefined ? '' : `, ${seconds(length)} each`}.`;
  return length === undefined ? undefined : `Transition length: ${seconds(length)}.`;
}

/** e.g. `Add the text "Summer Sale" at the top from 0 s to 3 s, large size, colour #ffcc00, font noto-sans-cjk, bold weight, box colour #000000, box opacity 50%, shrink to fit.` */
function captionSentence(caption: Caption): string {
  const where = caption.position === undefined ? '' : caption.position === 'center' ? ' in the center' : ` at the ${caption.position}`;
  const style = commaClauses(
    caption.size && `${caption.size} size`,
    caption.color && `colour ${caption.color}`,
    caption.font && `font ${caption.font}`,
    caption.weight && `${caption.weight} weight`,
    caption.box_color && `box colour ${caption.box_color}`,
    caption.box_opacity !== undefined && `box opacity ${percentOrFraction(caption.box_opacity)}`,
    caption.overflow && `${caption.overflow} to fit`,
  );
  return `Add the text ${JSON.stringify(caption.text)}${where} from ${num(caption.start_s)} s to ${num(caption.end_s)} s${style}.`;
}

/** e.g. "Use the uploaded audio as background music at 35% volume, fading out over the last 1 second." */
function musicSentence(audio: AudioOption): string {
  const volume = audio.volume === undefined ? '' : volumeClause(audio.volume);
  const fade = audio.fade_out_s === undefined ? '' : audio.fade_out_s === 0 ? ', with no fade-out' : `, fading out over the last ${seconds(audio.fade_out_s)}`;
  return `Use the uploaded audio as background music${volume}${fade}.`;
}

/** e.g. `Overlay the uploaded logo "brand.png" in the top-right corner, size 20%, opacity 80%, margin 4%.` */
function logoSentence(file: string, logo: LogoOption): string {
  const placed = commaClauses(
    logo.size !== undefined && `size ${percentOrFraction(logo.size)}`,
    logo.opacity !== undefined && `opacity ${percentOrFraction(logo.opacity)}`,
    logo.margin !== undefined && `margin ${percentOrFraction(logo.margin)}`,
  );
  const corner = logo.corner ? ` in the ${logo.corner} corner` : '';
  return `Overlay the uploaded logo ${JSON.stringify(file)}${corner}${placed}.`;
}

/** e.g. `Add the badge "-30%" in the top-left corner, pill shape, large size, colour #ffffff, background #e11d48.` */
function badgeSentence(badge: BadgeOption): string {
  const style = commaClauses(badge.shape && `${badge.shape} shape`, badge.size && `${badge.size} size`, badge.color && `colour ${badge.color}`, badge.background && `background ${badge.background}`);
  const corner = badge.corner ? ` in the ${badge.corner} corner` : '';
  return `Add the badge ${JSON.stringify(badge.text)}${corner}${style}.`;
}

/** A percentage when one reads back to exactly this fraction (0.35 → "35%"), else undefined. */
function exactPercent(fraction: number): string | undefined {
  const percent = Number((fraction * 100).toPrecision(12));
  return percent / 100 === fraction ? `${num(percent)}%` : undefined;
}

/** "35%", or the fraction itself ("0.3333333333333333") when no percentage reads back to it. */
export function percentOrFraction(fraction: number): string {
  return exactPercent(fraction) ?? num(fraction);
}

function volumeClause(volume: number): string {
  const percent = exactPercent(volume);
  return percent ? ` at ${percent} volume` : ` at volume ${num(volume)}`;
}
