import { TRACK_TYPE, type Draft, type Motion } from '../shared/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, outputSize, type AspectRatio, type Resolution } from '../shared/job-options.ts';

/**
 * The embedded engine's "agent": a rule-based reading of an instruction into a
 * draft. It understands what the worker composes ("Animate this image with a
 * slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps.")
 * and common free phrasings; anything it does not recognise keeps its default.
 */

export type FrameRate = (typeof FRAME_RATES)[number];

export interface ParsedInstruction {
  durationS: number;
  aspectRatio: AspectRatio;
  resolution: Resolution;
  fps: FrameRate;
  motion: Motion;
  /** how far the motion travels (draft segment `m.intensity`) */
  intensity: number;
}

export const INSTRUCTION_DEFAULTS: ParsedInstruction = {
  durationS: 5,
  aspectRatio: '9:16',
  resolution: '1080p',
  fps: 30,
  motion: 'zoom-in',
  intensity: 0.15,
};

const MAX_DURATION_S = 120;

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const DURATION_PATTERNS = [
  new RegExp(String.raw`duration\s*(?:of\s*)?[:=]?\s*${NUMBER}`, 'i'),
  new RegExp(String.raw`${NUMBER}\s*-?\s*(?:seconds?|secs?)\b`, 'i'),
  new RegExp(String.raw`${NUMBER}\s*s\b`, 'i'),
  new RegExp(String.raw`${NUMBER}\s*秒`),
];

function parseDuration(text: string): number | undefined {
  for (const pattern of DURATION_PATTERNS) {
    const match = pattern.exec(text);
    if (match?.[1]) {
      const value = Number(match[1]);
      if (value > 0) return Math.min(value, MAX_DURATION_S);
    }
  }
  return undefined;
}

/** "landscape photo" names the subject, not the orientation */
const NOT_A_SUBJECT = String.raw`(?!\s+(?:photo|image|picture|pic|shot|scene|painting|portrait|photograph)s?\b)`;
const ORIENTATION_WORDS: [RegExp, AspectRatio][] = [
  [new RegExp(String.raw`竖屏|\bvertical\b|\bportrait\b${NOT_A_SUBJECT}`, 'i'), '9:16'],
  [new RegExp(String.raw`横屏|\bhorizontal\b|\bwidescreen\b|\blandscape\b${NOT_A_SUBJECT}`, 'i'), '16:9'],
  [/方形|\bsquare\b/i, '1:1'],
];

function parseAspectRatio(text: string): AspectRatio | undefined {
  const explicit = /\b(9|16|1|4)\s*[:x×/]\s*(16|9|1|5)\b/i.exec(text);
  if (explicit) {
    const ratio = `${explicit[1]}:${explicit[2]}`;
    if ((ASPECT_RATIOS as readonly string[]).includes(ratio)) return ratio as AspectRatio;
  }
  return ORIENTATION_WORDS.find(([pattern]) => pattern.test(text))?.[1];
}

function parseResolution(text: string): Resolution | undefined {
  const match = /\b(1080|720)\s*p\b/i.exec(text);
  if (match) return `${match[1]}p` as Resolution;
  if (/\bfull\s*hd\b|\bfhd\b/i.test(text)) return '1080p';
  return undefined;
}

function parseFps(text: string): FrameRate | undefined {
  const match = /\b(24|25|30|60)\s*(?:fps|frames?\s*(?:per|a)\s*second)\b/i.exec(text) ?? /\bfps\s*[:=]?\s*(24|25|30|60)\b/i.exec(text);
  return match ? (Number(match[1]) as FrameRate) : undefined;
}

/** Most specific first: "ken burns" mentions no direction, "zoom" alone means zoom-in. */
const MOTION_WORDS: [RegExp, Motion][] = [
  [/ken[\s-]?burns/i, 'ken-burns'],
  [/zoom(?:s|ing)?[\s-]*out|pull(?:s|ing)?[\s-]*back|拉远/i, 'zoom-out'],
  [/(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?left|向左/i, 'pan-left'],
  [/(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?right|pan(?:s|ning)?\s+across|向右/i, 'pan-right'],
  [/(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*up\b|向上/i, 'pan-up'],
  [/(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*down\b|向下/i, 'pan-down'],
  [/\bstatic\b|\bno\s+(?:motion|movement|zoom)\b|\bwithout\s+(?:any\s+)?(?:motion|movement)\b|静止/i, 'static'],
  [/zoom|push(?:es|ing)?[\s-]*in|推近/i, 'zoom-in'],
];

function parseMotion(text: string): Motion | undefined {
  return MOTION_WORDS.find(([pattern]) => pattern.test(text))?.[1];
}

function parseIntensity(text: string): number | undefined {
  if (/\b(?:slow(?:ly)?|subtle|gentle|slight(?:ly)?|soft)\b|缓慢|轻微/i.test(text)) return 0.1;
  if (/\b(?:fast|quick(?:ly)?|dramatic|strong|dynamic|energetic)\b|快速/i.test(text)) return 0.3;
  return undefined;
}

export function parseInstruction(text: string): ParsedInstruction {
  const d = INSTRUCTION_DEFAULTS;
  return {
    durationS: parseDuration(text) ?? d.durationS,
    aspectRatio: parseAspectRatio(text) ?? d.aspectRatio,
    resolution: parseResolution(text) ?? d.resolution,
    fps: parseFps(text) ?? d.fps,
    motion: parseMotion(text) ?? d.motion,
    intensity: parseIntensity(text) ?? d.intensity,
  };
}

/** A visual file the draft can show: `src` is what the renderer will resolve. */
export interface DraftMedia {
  src: string;
  filename: string;
}

/** One video segment per file, in order, sharing the duration (the last takes the rounding remainder). */
export function buildDraft(parsed: ParsedInstruction, media: readonly DraftMedia[]): Draft {
  const totalMs = Math.round(parsed.durationS * 1000);
  const share = Math.floor(totalMs / Math.max(media.length, 1));
  const segments = media.map((file, index) => ({
    s: index * share,
    d: index === media.length - 1 ? totalMs - index * share : share,
    src: file.src,
    m: { name: file.filename, motion: parsed.motion, intensity: parsed.intensity, fit: 'cover' as const, background: '#000000' },
  }));
  const title = media.length === 1 ? (media[0]?.filename ?? 'image') : `${media.length} images`;
  return {
    t: [{ tt: TRACK_TYPE.video, sg: segments }],
    d: totalMs,
    m: { title, ...outputSize(parsed.aspectRatio, parsed.resolution), fps: parsed.fps, quality: 'standard' },
  };
}

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

/** What the agent says afterwards, phrased like the cloud backend that assumes a GUI. */
export function describeEdit(parsed: ParsedInstruction, draft: Draft): string {
  const clips = draft.t[0]?.sg.length ?? 0;
  const pace = parsed.intensity <= 0.1 ? 'slow ' : parsed.intensity >= 0.3 ? 'dynamic ' : '';
  const what = clips === 1 ? 'your image' : `your ${clips} images`;
  return (
    `I've added a ${parsed.durationS}s ${pace}${MOTION_PHRASES[parsed.motion]} to ${what} on a ${parsed.aspectRatio} canvas ` +
    `(${draft.m.width}×${draft.m.height}, ${parsed.fps} fps). You can preview it in the timeline, ` +
    `and open the motion panel to fine-tune it. Click Export when you're ready.`
  );
}

export const NO_MEDIA_REPLY =
  "I don't see an image in this project yet. Drag a photo onto the timeline or upload one, then tell me how to animate it.";
