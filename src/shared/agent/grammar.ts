import {
  BADGE_SHAPES, CORNERS, FITS, FONT_FAMILIES, FONT_WEIGHTS, MOTIONS, QUALITIES, TEXT_OVERFLOWS, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS, type Fit, type Motion, type Transition,
} from '../../shared/jobs/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, MOTION_INTENSITIES, RESOLUTIONS, type AspectRatio, type MotionIntensity, type Resolution } from '../../shared/jobs/job-options.ts';
import { PLATFORM_AUDIO_RATES, PLATFORMS } from '../../shared/jobs/platforms.ts';
import type { FollowUpEdits } from './follow-up.ts';
import { present, type AgentRequest, type RequestCaption } from './request.ts';
import { alternatives, DOUBLE_QUOTED, HEX, member, NUMBER, PLAIN_NUMBER, QUOTED, SECONDS_UNIT, unquote } from './text-patterns.ts';

/**
 * The instruction language (docs/instructions.md), declared once: every
 * phrase the reader knows, in the order read.ts reads them. A phrase is a
 * rule: a stable name, its pattern, and what a match reads into (a request
 * fragment, an option's value, an edit, an intent), or undefined when the
 * match says nothing after all.
 *
 * Phrases are either taken out of the text, so that their words count for
 * nothing read after them, or only tested. Where a section lists several rules
 * for one option, edit or intent, the first rule that reads something wins.
 */
export interface Rule<T> {
  readonly name: string;
  readonly pattern: RegExp;
  readonly read: (match: RegExpExecArray) => T | undefined;
}

/** For each key of `T`, its rules in order. */
export type Section<T> = { readonly [K in keyof T]-?: readonly Rule<NonNullable<T[K]>>[] };

const rule = <T>(name: string, pattern: RegExp, read: Rule<T>['read']): Rule<T> => ({ name, pattern, read });
/** A phrase that always reads the same value (a primitive: an object would be shared by every reading). */
const word = <T>(name: string, pattern: RegExp, value: T): Rule<T> => rule(name, pattern, () => value);

// ─── 1. The composed sentences ──────────────────────────────────────────────
//
// The option sentences the worker composes after the prompt
// (src/workers/instruction.ts), read back exactly. They are peeled off the end
// of the instruction one at a time, the marker first, then the first sentence
// that reads: the prompt in front may hold anything, even unbalanced quotes,
// and a caption's JSON string literal cannot end early because its own quotes
// are escaped. A sentence nearer the end wins over an earlier one that sets
// the same option.

const JS_N = `(${NUMBER})`;
const SECONDS = String.raw`seconds?`;
const oneOf = (values: readonly (string | number)[]) => `(${alternatives(values)})`;

/** anchored at the end of the text, starting at a word boundary */
const lastSentence = (body: string) => new RegExp(String.raw`(?<=^|\s)${body}\.\s*$`, 'i');
const sentence = (name: string, body: string, read: Rule<AgentRequest>['read']) => rule(name, lastSentence(body), read);

/** "35%" or "0.35" as the fraction (the composer's `percentOrFraction`). */
const PERCENT_OR_FRACTION = `(?:${JS_N}%|${JS_N})`;
const percentOrFraction = (percent: string | undefined, fraction: string | undefined) =>
  percent !== undefined ? Number(percent) / 100 : fraction !== undefined ? Number(fraction) : undefined;

function readCaption([, literal, position, start, end, size, color, font, weight, boxColor, boxPercent, boxFraction, overflow]: RegExpExecArray): AgentRequest | undefined {
  const text = jsonText(literal);
  if (text === undefined) return undefined;
  const caption = present<RequestCaption>({
    text,
    start_s: Number(start),
    end_s: Number(end),
    position: member(TEXT_POSITIONS, position),
    size: member(TEXT_SIZES, size),
    color,
    font: member(FONT_FAMILIES, font),
    weight: member(FONT_WEIGHTS, weight),
    box_color: boxColor,
    box_opacity: percentOrFraction(boxPercent, boxFraction),
    overflow: member(TEXT_OVERFLOWS, overflow),
  });
  return { text: [caption] };
}

function readFormat([, aspect, resolutionAfterAspect, resolution, fps, quality]: RegExpExecArray): AgentRequest | undefined {
  const request = present<AgentRequest>({
    aspect_ratio: member(ASPECT_RATIOS, aspect),
    resolution: member(RESOLUTIONS, resolutionAfterAspect ?? resolution),
    fps: fps === undefined ? undefined : member(FRAME_RATES, fps),
    quality: member(QUALITIES, quality),
  });
  return Object.keys(request).length > 0 ? request : undefined;
}

function readMusic([, percent, fraction, fadeOut, noFade]: RegExpExecArray): AgentRequest {
  const volume = percentOrFraction(percent, fraction);
  const fade_out_s = noFade !== undefined ? 0 : fadeOut !== undefined ? Number(fadeOut) : undefined;
  return { audio: present({ volume, fade_out_s }) };
}

/** A JSON string literal (its own quotes escaped), as the composer writes caption texts and file names. */
const JSON_STRING = String.raw`("(?:[^"\\]|\\[^])*")`;

/** The text of a JSON string literal, or undefined when it is not one. */
function jsonText(literal: string | undefined): string | undefined {
  try {
    const text: unknown = JSON.parse(literal ?? '');
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

function readLogo([, literal, corner, sizePercent, size, opacityPercent, opacity, marginPercent, margin]: RegExpExecArray): AgentRequest | undefined {
  const file = jsonText(literal);
  if (file === undefined) return undefined;
  const logo = present({
    corner: member(CORNERS, corner),
    size: percentOrFraction(sizePercent, size),
    opacity: percentOrFraction(opacityPercent, opacity),
    margin: percentOrFraction(marginPercent, margin),
  });
  return { logo: { file, ...logo } };
}

function readBadge([, literal, corner, shape, size, color, background]: RegExpExecArray): AgentRequest | undefined {
  const text = jsonText(literal);
  if (text === undefined || text === '') return undefined;
  return { badge: { text, ...present({ corner: member(CORNERS, corner), shape: member(BADGE_SHAPES, shape), size: member(TEXT_SIZES, size), color, background }) } };
}

function readEncoding([, platformName, gop, kbps, hz]: RegExpExecArray): AgentRequest | undefined {
  const platform = member(PLATFORMS, platformName);
  const audio_hz = member(PLATFORM_AUDIO_RATES, hz);
  if (!platform || !audio_hz) return undefined;
  return { encoding: { platform, gop_s: Number(gop), max_kbps: Number(kbps), audio_hz } };
}

export const COMPOSED_SENTENCES = {
  /** A revision's: the caption sentences after it replace the captions the timeline had instead of adding to them. */
  replaceCaptions: word('composed.replace-captions', lastSentence('replace the earlier captions with the following'), true),
  sentences: [
    sentence(
      'composed.caption',
      String.raw`add the text ${JSON_STRING}(?: (?:at|in) the ${oneOf(TEXT_POSITIONS)})? from ${JS_N} s to ${JS_N} s(?:, ${oneOf(TEXT_SIZES)} size)?(?:, colou?r (${HEX}))?` +
        `(?:, font ${oneOf(FONT_FAMILIES)})?(?:, ${oneOf(FONT_WEIGHTS)} weight)?(?:, box colou?r (${HEX}))?(?:, box opacity ${PERCENT_OR_FRACTION})?(?:, ${oneOf(TEXT_OVERFLOWS)} to fit)?`,
      readCaption,
    ),
    sentence('composed.motion', `motion: ${oneOf(MOTIONS)}(?:, ${oneOf(MOTION_INTENSITIES)} intensity)?`, ([, motion, intensity]) =>
      present({ motion: member(MOTIONS, motion), motion_intensity: member(MOTION_INTENSITIES, intensity) }),
    ),
    sentence('composed.motion-intensity', `motion intensity: ${oneOf(MOTION_INTENSITIES)}`, ([, intensity]) => ({
      motion_intensity: member(MOTION_INTENSITIES, intensity),
    })),
    sentence('composed.duration', `duration: ${JS_N} ${SECONDS}`, ([, duration]) => ({ duration_s: Number(duration) })),
    sentence(
      'composed.format',
      `(?:(?:aspect ratio ${oneOf(ASPECT_RATIOS)}(?: at ${oneOf(RESOLUTIONS)})?|resolution ${oneOf(RESOLUTIONS)}),? ?)?` +
        `(?:${oneOf(FRAME_RATES)} fps,? ?)?(?:${oneOf(QUALITIES)} quality)?`,
      readFormat,
    ),
    sentence(
      'composed.encoding',
      `encoding for ${oneOf(PLATFORMS)}: a closed gop of ${JS_N} ${SECONDS}, constant frame rate, video at most ${JS_N} kbps, aac audio at ${oneOf(PLATFORM_AUDIO_RATES)} hz, faststart`,
      readEncoding,
    ),
    sentence('composed.fit', `fit: ${oneOf(FITS)}(?: on an? (${HEX}) background)?`, ([, fit, background]) => present({ fit: member(FITS, fit), background })),
    sentence('composed.background', `background colou?r (${HEX})`, ([, background]) => present({ background })),
    sentence('composed.transitions', `transitions: ${oneOf(TRANSITIONS)}(?:, ${JS_N} ${SECONDS} each)?`, ([, transition, length]) =>
      present({ transition: member(TRANSITIONS, transition), transition_s: length === undefined ? undefined : Number(length) }),
    ),
    sentence('composed.transition-length', `transition length: ${JS_N} ${SECONDS}`, ([, length]) => ({ transition_s: Number(length) })),
    sentence(
      'composed.logo',
      `overlay the uploaded logo ${JSON_STRING}(?: in the ${oneOf(CORNERS)} corner)?(?:, size ${PERCENT_OR_FRACTION})?(?:, opacity ${PERCENT_OR_FRACTION})?(?:, margin ${PERCENT_OR_FRACTION})?`,
      readLogo,
    ),
    sentence(
      'composed.badge',
      `add the badge ${JSON_STRING}(?: in the ${oneOf(CORNERS)} corner)?(?:, ${oneOf(BADGE_SHAPES)} shape)?(?:, ${oneOf(TEXT_SIZES)} size)?(?:, colou?r (${HEX}))?(?:, background (${HEX}))?`,
      readBadge,
    ),
    sentence(
      'composed.music',
      `use the uploaded audio as background music(?: at (?:${JS_N}% volume|volume ${JS_N}))?(?:, (?:fading out over the last ${JS_N} ${SECONDS}|(with no fade-out)))?`,
      readMusic,
    ),
  ],
} as const;

// ─── 2. The follow-up edits (taken out) ─────────────────────────────────────
//
// Phrases that change what an earlier instruction of the session asked for
// rather than state an option. They are taken out of the prompt before
// anything else is read, so that "make the zoom slower" does not also read as
// "zoom in", nor "remove the music" as "add music". Per edit, the first rule
// found is taken.

const SUBJECT = String.raw`(?:(?:the|it|this)\s+)?(?:(?:zoom(?:[\s-](?:in|out))?|pan|motion|movement|animation|camera(?:\s+move)?)\s+)?`;
const EDIT_VERB = String.raw`(?:make|keep|set)\s+${SUBJECT}`;

const REMOVE = String.raw`(?:remove|delete|drop|take\s+out|get\s+rid\s+of|turn\s+off)\s+(?:(?:the|all(?:\s+the)?|any)\s+)?`;
const MUSIC_WORDS = String.raw`(?:background\s+)?(?:music|audio|soundtrack|bgm|song)`;
const TEXT_WORDS = String.raw`(?:text|captions?|titles?|subtitles?|words)`;
const ZH_REMOVE = '(?:去掉|去除|删除|删掉|移除|不要|关掉)';
const SENTENCE_END = String.raw`(?=[.!?。！？](?:\s|$)|$)`;

function captionTextOf([, quoted, plain, quotedZh, plainZh]: RegExpExecArray): string | undefined {
  const token = quoted ?? quotedZh;
  if (token !== undefined) return unquote(token);
  return (plain ?? plainZh)?.trim() || undefined;
}

/** The edits in the order they are taken out. */
type Edits = Required<Omit<FollowUpEdits, 'replaceCaptions'>>;

export const FOLLOW_UP_EDITS: Section<Edits> = {
  /** the first caption's text ("change the text to …": quoted, or the rest of the sentence) */
  captionText: [
    rule(
      'follow-up.change-caption-text',
      new RegExp(
        String.raw`\b(?:change|set|replace|update|edit|make)\s+(?:the\s+)?(?:text|caption|title|subtitle)\s+(?:to|with|into|as|so\s+it\s+(?:says|reads))\s*[:：]?\s*(?:${QUOTED}|(.+?))\s*${SENTENCE_END}` +
          String.raw`|(?:把)?(?:字幕|标题|文字)(?:改成|改为|换成)\s*[:：]?\s*(?:${QUOTED}|([^。！？]+))`,
        'i',
      ),
      captionTextOf,
    ),
  ],
  removeMusic: [
    word(
      'follow-up.remove-music',
      new RegExp(String.raw`\b${REMOVE}${MUSIC_WORDS}\b|\b(?:no|without)\s+${MUSIC_WORDS}\b|\bmute\b|${ZH_REMOVE}(?:背景)?(?:音乐|配乐)|静音`, 'i'),
      true,
    ),
  ],
  removeText: [
    word('follow-up.remove-text', new RegExp(String.raw`\b${REMOVE}${TEXT_WORDS}\b|\b(?:no|without)\s+${TEXT_WORDS}\b|${ZH_REMOVE}(?:字幕|标题|文字)`, 'i'), true),
  ],
  /** motion intensity one step down (strong → normal → subtle) or up */
  intensity: [
    word(
      'follow-up.intensity-lower',
      new RegExp(
        String.raw`\b${EDIT_VERB}(?:a\s+bit\s+|a\s+little\s+|much\s+)?(?:slower|gentler|subtler|calmer|more\s+subtle|less\s+intense)\b|\bslow\s+(?:${SUBJECT})?down\b|\bslower\b|\bless\s+(?:motion|movement|zoom)\b|慢一点|慢一些|更慢|放慢|减弱`,
        'i',
      ),
      'lower',
    ),
    word(
      'follow-up.intensity-higher',
      new RegExp(
        String.raw`\b${EDIT_VERB}(?:a\s+bit\s+|a\s+little\s+|much\s+)?(?:faster|stronger|bigger|more\s+dramatic|more\s+intense|more\s+dynamic)\b|\bspeed\s+(?:${SUBJECT})?up\b|\bfaster\b|\bstronger\b|\bmore\s+(?:motion|movement|zoom)\b|快一点|快一些|更快|加快|加强|更强`,
        'i',
      ),
      'higher',
    ),
  ],
};

// ─── 3. The free captions (taken out, every one) ────────────────────────────
//
// A caption word, then the quoted text, then optionally where and when, e.g.
// `add the caption "Hello" at the top from 1 s to 3 s`, `with the title
// “Summer Sale”`, `字幕「夏日促销」在顶部`, `字幕：夏日促销`. Without a time
// the caption spans the whole video. English phrasings first.

const POSITION_WORDS: Record<string, (typeof TEXT_POSITIONS)[number]> = {
  top: 'top', center: 'center', centre: 'center', middle: 'center', bottom: 'bottom',
  顶部: 'top', 上方: 'top', 中间: 'center', 居中: 'center', 底部: 'bottom', 下方: 'bottom',
};

const TIME = String.raw`(${PLAIN_NUMBER})(?:\s*${SECONDS_UNIT})?`;

/** An empty text is no caption. */
function caption(text: string, position: string | undefined, start?: string, end?: string): RequestCaption | undefined {
  if (text === '') return undefined;
  const where = position === undefined ? undefined : POSITION_WORDS[position.toLowerCase()];
  const timing = start !== undefined && end !== undefined && Number(end) > Number(start) ? { start_s: Number(start), end_s: Number(end) } : {};
  return { text, ...timing, ...(where && { position: where }) };
}

export const CAPTIONS: readonly Rule<RequestCaption>[] = [
  rule(
    'caption.en',
    new RegExp(
      String.raw`(?:\b(?:add|put|show|display|include|with|and)\s+)?(?:(?:the|a|an)\s+)?\b(?:text|caption|title|subtitle|words?)\s*(?:[:：]|saying|that\s+says|reading)?\s*${QUOTED}` +
        String.raw`(?:\s+(?:at|in|on)\s+the\s+(top|center|centre|middle|bottom))?(?:\s+from\s+${TIME}\s+to\s+${TIME})?`,
      'i',
    ),
    ([, quoted, position, start, end]) => caption(unquote(quoted ?? '""'), position, start, end),
  ),
  rule(
    'caption.zh',
    new RegExp(
      String.raw`(?:加上?|添加|显示)?(?:字幕|标题|文字)\s*(?:[:：]\s*)?(?:${QUOTED}|(?<=[:：]\s*)([^，。,.!?！？\s][^，。,.!?！？]*))(?:\s*[，,]?\s*(?:在|放在)?(顶部|上方|中间|居中|底部|下方))?`,
    ),
    ([, quoted, plain, position]) => caption(quoted ? unquote(quoted) : (plain ?? '').trim(), position),
  ),
];

// ─── 4. Quoted text (taken out, every one, read as nothing) ─────────────────

/** Quoted text left over is somebody's words, not an instruction: it is not read for keywords. */
export const QUOTED_TEXT: Rule<never> = rule<never>('quoted-text', new RegExp(DOUBLE_QUOTED), () => undefined);

// ─── 5. The intents (tested) ────────────────────────────────────────────────

export interface Intents {
  /** video generated by a model, which this engine cannot do */
  asksForGeneration: boolean;
  /** the export: acknowledged, the render is the client's next call */
  asksForExport: boolean;
}

export const INTENTS: Section<Intents> = {
  asksForGeneration: [
    word(
      'intent.generation',
      /\bdiffusion\b|\bpixverse\b|\bseedance\b|\btext[\s-]to[\s-]video\b|\bai[\s-]generated\b|\bgenerat\w*\s+(?:an?\s+)?ai\b|\bwith\s+(?:an?\s+)?(?:ai|generative)\s+model\b|AI\s*生成|文生视频|扩散模型/i,
      true,
    ),
  ],
  asksForExport: [word('intent.export', /\bexport\b|\bdownload\b|导出|下载/i, true)],
};

// ─── 6. Phrases whose numbers are not the duration (taken out, the first of each) ─

const N = `(${PLAIN_NUMBER})`;

export const NOT_THE_DURATION: readonly Rule<AgentRequest>[] = [
  /** only the length is taken: the words around it may name the transition */
  rule(
    'transition-length',
    new RegExp(
      String.raw`${N}\s*-?\s*${SECONDS_UNIT}(?=\s+(?:long\s+)?(?:[a-z-]+\s+)?transitions?\b)|(?<=transitions?\s+(?:of|lasting)\s+)${N}\s*${SECONDS_UNIT}`,
      'i',
    ),
    ([, before, after]) => ({ transition_s: Math.min(2, Math.max(0.2, Number(before ?? after))) }),
  ),
  rule('music.fade-out', new RegExp(String.raw`\bfad(?:e|es|ing)\s+out\s+(?:over\s+)?(?:the\s+last\s+)?${N}\s*${SECONDS_UNIT}`, 'i'), ([, seconds]) => ({
    audio: { fade_out_s: Math.min(10, Number(seconds)) },
  })),
  rule('music.volume', new RegExp(String.raw`${N}\s*%\s*volume|volume\s*(?:of|at|to|:)?\s*${N}\s*%|音量\s*${N}\s*%`, 'i'), ([, a, b, c]) => ({
    audio: { volume: Math.min(1, Number(a ?? b ?? c) / 100) },
  })),
];

// ─── 7. The keywords, per option (tested) ───────────────────────────────────
//
// Options named in free prose, English and Chinese alike ("a 30-second video
// with transitions and background music", "竖屏", "缓慢放大"), read in what
// is left once everything above is taken out. Per option the first rule that
// reads a value wins: most specific first.

const MIN_DURATION_S = 1;
const MAX_DURATION_S = 60;

/** A positive number of seconds, clamped to 1–60; 0 is no duration. */
function duration([, seconds]: RegExpExecArray): number | undefined {
  const value = Number(seconds ?? NaN);
  return value > 0 ? Math.min(Math.max(value, MIN_DURATION_S), MAX_DURATION_S) : undefined;
}

/** "landscape photo" names the subject, not the orientation */
const NOT_A_SUBJECT = String.raw`(?!\s+(?:photo|image|picture|pic|shot|scene|painting|portrait|photograph)s?\b)`;

type KeywordOptions = Pick<AgentRequest, 'duration_s' | 'aspect_ratio' | 'resolution' | 'fps' | 'quality' | 'motion' | 'motion_intensity' | 'fit' | 'background' | 'transition' | 'audio'>;

export const KEYWORDS: Section<KeywordOptions> = {
  duration_s: [
    rule('duration.named', new RegExp(String.raw`duration\s*(?:of\s*)?[:=]?\s*${N}`, 'i'), duration),
    rule('duration.seconds', new RegExp(String.raw`${N}\s*-?\s*(?:seconds?|secs?)\b`, 'i'), duration),
    rule('duration.s', new RegExp(String.raw`${N}\s*s\b`, 'i'), duration),
    rule('duration.zh', new RegExp(String.raw`${N}\s*秒`), duration),
  ],
  aspect_ratio: [
    rule('aspect-ratio.numbers', /\b(9|16|1|4)\s*[:x×/]\s*(16|9|1|5)\b/i, ([, width, height]) => member(ASPECT_RATIOS, `${width}:${height}`)),
    word<AspectRatio>('aspect-ratio.portrait', new RegExp(String.raw`竖屏|竖版|\bvertical\b|\bportrait\b${NOT_A_SUBJECT}`, 'i'), '9:16'),
    word<AspectRatio>('aspect-ratio.landscape', new RegExp(String.raw`横屏|横版|\bhorizontal\b|\bwidescreen\b|\blandscape\b${NOT_A_SUBJECT}`, 'i'), '16:9'),
    word<AspectRatio>('aspect-ratio.square', /正方形|方形|\bsquare\b/i, '1:1'),
  ],
  resolution: [
    word<Resolution>('resolution.1080p', /\b1080\s*p\b|\bfull\s*hd\b|\bfhd\b/i, '1080p'),
    word<Resolution>('resolution.720p', /\b720\s*p\b/i, '720p'),
  ],
  fps: [
    rule('fps', /\b(\d+)\s*(?:fps|frames?\s*(?:per|a)\s*second)\b|\bfps\s*[:=]?\s*(\d+)\b|(\d+)\s*帧/i, ([, a, b, c]) => member(FRAME_RATES, a ?? b ?? c)),
  ],
  quality: [
    word<'standard' | 'high'>('quality.high', /\b(?:high|best|top)[\s-]?quality\b|高质量|高画质/i, 'high'),
    word<'standard' | 'high'>('quality.standard', /\bstandard[\s-]?quality\b|标准画质/i, 'standard'),
  ],
  /** "ken burns" names no direction, a bare "zoom" means zoom-in */
  motion: [
    word<Motion>('motion.ken-burns', /ken[\s-]?burns/i, 'ken-burns'),
    word<Motion>('motion.zoom-out', /zoom(?:s|ing)?[\s-]*out|pull(?:s|ing)?[\s-]*back|拉远|缩小/i, 'zoom-out'),
    word<Motion>('motion.pan-left', /(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?left|向左|左移|往左/i, 'pan-left'),
    word<Motion>('motion.pan-right', /(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?right|pan(?:s|ning)?\s+across|向右|右移|往右/i, 'pan-right'),
    word<Motion>('motion.pan-up', /(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*up\b|向上|上移|往上/i, 'pan-up'),
    word<Motion>('motion.pan-down', /(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*down\b|向下|下移|往下/i, 'pan-down'),
    word<Motion>(
      'motion.static',
      /\bstatic\b(?!\s+(?:image|photo|picture|pic|shot)s?\b)|\bno\s+(?:motion|movement|zoom)\b|\bwithout\s+(?:any\s+)?(?:motion|movement)\b|静止|不动/i,
      'static',
    ),
    word<Motion>('motion.zoom-in', /zoom|push(?:es|ing)?[\s-]*in|推近|放大|缩放/i, 'zoom-in'),
  ],
  motion_intensity: [
    word<MotionIntensity>('intensity.subtle', /\b(?:slow(?:ly)?|subtle|gentle|gently|slight(?:ly)?|soft)\b|缓慢|轻微|轻柔|慢/i, 'subtle'),
    word<MotionIntensity>('intensity.strong', /\b(?:fast|quick(?:ly)?|dramatic|strong|dynamic|energetic|intense)\b|快速|强烈|剧烈/i, 'strong'),
    word<MotionIntensity>('intensity.normal', /\bnormal\s+(?:motion|movement|speed|intensity)\b/i, 'normal'),
  ],
  fit: [
    word<Fit>('fit.contain-blur', /\bblur(?:red)?\s+(?:background|edges|sides|bars)\b|\bcontain[\s-]blur\b|模糊背景/i, 'contain-blur'),
    word<Fit>(
      'fit.contain',
      /\bletterbox(?:ed)?\b|\bcontain\b|\bfit\s+the\s+whole\s+(?:image|photo|picture)\b|\b(?:don't|do\s+not|without|no)\s+crop(?:ping)?\b|完整显示|不裁剪/i,
      'contain',
    ),
    word<Fit>('fit.cover', /\bfill\s+the\s+(?:frame|screen)\b|\bcrop(?:ped)?\s+to\s+fill\b|铺满|填满/i, 'cover'),
  ],
  background: [
    rule('background.hex', new RegExp(String.raw`(${HEX})\s+background|background\s*(?:colou?r)?\s*[:=]?\s*(${HEX})`, 'i'), ([, before, after]) => before ?? after),
    word('background.black', /\bblack\s+background\b|黑色背景/i, '#000000'),
    word('background.white', /\bwhite\s+background\b|白色背景/i, '#ffffff'),
  ],
  /** named transitions before the bare word "transitions", which means the default fade */
  transition: [
    word<Transition>('transition.none', /\bno\s+transitions?\b|\bwithout\s+transitions?\b|\bhard\s+cuts?\b|无转场|不要转场/i, 'none'),
    word<Transition>('transition.fade', /\bcross[\s-]?fades?\b|\bfade\s+transitions?\b|\bfades?\s+between\b|淡入淡出/i, 'fade'),
    word<Transition>('transition.dissolve', /\bdissolves?\b|溶解/i, 'dissolve'),
    word<Transition>('transition.slideleft', /\bslide[\s-]?left\b/i, 'slideleft'),
    word<Transition>('transition.slideright', /\bslide[\s-]?right\b/i, 'slideright'),
    word<Transition>('transition.slideup', /\bslide[\s-]?up\b/i, 'slideup'),
    word<Transition>('transition.slidedown', /\bslide[\s-]?down\b/i, 'slidedown'),
    word<Transition>('transition.wipeleft', /\bwipe[\s-]?left\b/i, 'wipeleft'),
    word<Transition>('transition.wiperight', /\bwipe[\s-]?right\b/i, 'wiperight'),
    word<Transition>('transition.circleopen', /\bcircle[\s-]?open\b/i, 'circleopen'),
    word<Transition>('transition.smoothleft', /\bsmooth[\s-]?left\b/i, 'smoothleft'),
    word<Transition>('transition.smoothright', /\bsmooth[\s-]?right\b/i, 'smoothright'),
    word<Transition>('transition.bare', /\btransitions?\b|转场|过渡/i, 'fade'),
  ],
  /** always the uploaded audio; its volume and fade-out are taken out above */
  audio: [rule('music.named', /\bmusic\b|\bsoundtrack\b|\bbgm\b|\bthe\s+(?:uploaded\s+)?(?:audio|song)\b|背景音乐|配乐|音乐/i, () => ({}))],
};

/** Every rule, in reading order. */
export const GRAMMAR_RULES: readonly Rule<unknown>[] = [
  COMPOSED_SENTENCES.replaceCaptions,
  ...COMPOSED_SENTENCES.sentences,
  ...Object.values(FOLLOW_UP_EDITS).flat(),
  ...CAPTIONS,
  QUOTED_TEXT,
  ...Object.values(INTENTS).flat(),
  ...NOT_THE_DURATION,
  ...Object.values(KEYWORDS).flat(),
];

