import type { Fit, Motion, Transition } from '../../shared/jobs/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, type AspectRatio, type MotionIntensity, type Resolution } from '../../shared/jobs/job-options.ts';
import { present, type AgentRequest, type RequestAudio } from './request.ts';
import { HEX, member, PLAIN_NUMBER, SECONDS_UNIT, type Remaining } from './text-patterns.ts';

/**
 * Options named in free prose, English and Chinese keywords alike ("a
 * 30-second video with transitions and background music", "竖屏", "缓慢放大").
 * Only what the text names is set. Phrases holding a number that is not the
 * video's duration (a transition's length, a fade-out) are taken out before
 * the duration is looked for.
 */

const N = `(${PLAIN_NUMBER})`;
const MIN_DURATION_S = 1;
const MAX_DURATION_S = 60;

type Rules<T> = [RegExp, T][];
const firstOf = <T>(rules: Rules<T>, text: string): T | undefined => rules.find(([pattern]) => pattern.test(text))?.[1];

const DURATION_PATTERNS = [
  new RegExp(String.raw`duration\s*(?:of\s*)?[:=]?\s*${N}`, 'i'),
  new RegExp(String.raw`${N}\s*-?\s*(?:seconds?|secs?)\b`, 'i'),
  new RegExp(String.raw`${N}\s*s\b`, 'i'),
  new RegExp(String.raw`${N}\s*秒`),
];

function readDuration(text: string): number | undefined {
  for (const pattern of DURATION_PATTERNS) {
    const value = Number(pattern.exec(text)?.[1] ?? NaN);
    if (value > 0) return Math.min(Math.max(value, MIN_DURATION_S), MAX_DURATION_S);
  }
  return undefined;
}

/** "landscape photo" names the subject, not the orientation */
const NOT_A_SUBJECT = String.raw`(?!\s+(?:photo|image|picture|pic|shot|scene|painting|portrait|photograph)s?\b)`;
const ORIENTATION_WORDS: Rules<AspectRatio> = [
  [new RegExp(String.raw`竖屏|竖版|\bvertical\b|\bportrait\b${NOT_A_SUBJECT}`, 'i'), '9:16'],
  [new RegExp(String.raw`横屏|横版|\bhorizontal\b|\bwidescreen\b|\blandscape\b${NOT_A_SUBJECT}`, 'i'), '16:9'],
  [/正方形|方形|\bsquare\b/i, '1:1'],
];

function readAspectRatio(text: string): AspectRatio | undefined {
  const explicit = /\b(9|16|1|4)\s*[:x×/]\s*(16|9|1|5)\b/i.exec(text);
  return member(ASPECT_RATIOS, explicit ? `${explicit[1]}:${explicit[2]}` : undefined) ?? firstOf(ORIENTATION_WORDS, text);
}

const RESOLUTION_WORDS: Rules<Resolution> = [
  [/\b1080\s*p\b|\bfull\s*hd\b|\bfhd\b/i, '1080p'],
  [/\b720\s*p\b/i, '720p'],
];

function readFps(text: string) {
  const match = /\b(\d+)\s*(?:fps|frames?\s*(?:per|a)\s*second)\b|\bfps\s*[:=]?\s*(\d+)\b|(\d+)\s*帧/i.exec(text);
  return match ? member(FRAME_RATES, match[1] ?? match[2] ?? match[3]) : undefined;
}

const QUALITY_WORDS: Rules<'standard' | 'high'> = [
  [/\b(?:high|best|top)[\s-]?quality\b|高质量|高画质/i, 'high'],
  [/\bstandard[\s-]?quality\b|标准画质/i, 'standard'],
];

/** Most specific first: "ken burns" names no direction, a bare "zoom" means zoom-in. */
const MOTION_WORDS: Rules<Motion> = [
  [/ken[\s-]?burns/i, 'ken-burns'],
  [/zoom(?:s|ing)?[\s-]*out|pull(?:s|ing)?[\s-]*back|拉远|缩小/i, 'zoom-out'],
  [/(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?left|向左|左移|往左/i, 'pan-left'],
  [/(?:pan(?:s|ning)?|scroll(?:s|ing)?)[\s-]*(?:to\s+the\s+)?right|pan(?:s|ning)?\s+across|向右|右移|往右/i, 'pan-right'],
  [/(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*up\b|向上|上移|往上/i, 'pan-up'],
  [/(?:pan(?:s|ning)?|tilt(?:s|ing)?)[\s-]*down\b|向下|下移|往下/i, 'pan-down'],
  [/\bstatic\b(?!\s+(?:image|photo|picture|pic|shot)s?\b)|\bno\s+(?:motion|movement|zoom)\b|\bwithout\s+(?:any\s+)?(?:motion|movement)\b|静止|不动/i, 'static'],
  [/zoom|push(?:es|ing)?[\s-]*in|推近|放大|缩放/i, 'zoom-in'],
];

const INTENSITY_WORDS: Rules<MotionIntensity> = [
  [/\b(?:slow(?:ly)?|subtle|gentle|gently|slight(?:ly)?|soft)\b|缓慢|轻微|轻柔|慢/i, 'subtle'],
  [/\b(?:fast|quick(?:ly)?|dramatic|strong|dynamic|energetic|intense)\b|快速|强烈|剧烈/i, 'strong'],
  [/\bnormal\s+(?:motion|movement|speed|intensity)\b/i, 'normal'],
];

const FIT_WORDS: Rules<Fit> = [
  [/\bblur(?:red)?\s+(?:background|edges|sides|bars)\b|\bcontain[\s-]blur\b|模糊背景/i, 'contain-blur'],
  [/\bletterbox(?:ed)?\b|\bcontain\b|\bfit\s+the\s+whole\s+(?:image|photo|picture)\b|\b(?:don't|do\s+not|without|no)\s+crop(?:ping)?\b|完整显示|不裁剪/i, 'contain'],
  [/\bfill\s+the\s+(?:frame|screen)\b|\bcrop(?:ped)?\s+to\s+fill\b|铺满|填满/i, 'cover'],
];

const BACKGROUND = new RegExp(String.raw`(${HEX})\s+background|background\s*(?:colou?r)?\s*[:=]?\s*(${HEX})`, 'i');
const NAMED_BACKGROUNDS: Rules<string> = [
  [/\bblack\s+background\b|黑色背景/i, '#000000'],
  [/\bwhite\s+background\b|白色背景/i, '#ffffff'],
];

function readBackground(text: string): string | undefined {
  const hex = BACKGROUND.exec(text);
  return (hex && (hex[1] ?? hex[2])) ?? firstOf(NAMED_BACKGROUNDS, text);
}

/** Only the length is taken: the words around it may name the transition. */
const TRANSITION_LENGTH = new RegExp(
  String.raw`${N}\s*-?\s*${SECONDS_UNIT}(?=\s+(?:long\s+)?(?:[a-z-]+\s+)?transitions?\b)|(?<=transitions?\s+(?:of|lasting)\s+)${N}\s*${SECONDS_UNIT}`,
  'i',
);

/** Named transitions before the bare word "transitions", which means the default fade. */
const TRANSITION_WORDS: Rules<Transition> = [
  [/\bno\s+transitions?\b|\bwithout\s+transitions?\b|\bhard\s+cuts?\b|无转场|不要转场/i, 'none'],
  [/\bcross[\s-]?fades?\b|\bfade\s+transitions?\b|\bfades?\s+between\b|淡入淡出/i, 'fade'],
  [/\bdissolves?\b|溶解/i, 'dissolve'],
  [/\bslide[\s-]?left\b/i, 'slideleft'],
  [/\bslide[\s-]?right\b/i, 'slideright'],
  [/\bslide[\s-]?up\b/i, 'slideup'],
  [/\bslide[\s-]?down\b/i, 'slidedown'],
  [/\bwipe[\s-]?left\b/i, 'wipeleft'],
  [/\bwipe[\s-]?right\b/i, 'wiperight'],
  [/\bcircle[\s-]?open\b/i, 'circleopen'],
  [/\bsmooth[\s-]?left\b/i, 'smoothleft'],
  [/\bsmooth[\s-]?right\b/i, 'smoothright'],
  [/\btransitions?\b|转场|过渡/i, 'fade'],
];

const MUSIC_FADE_OUT = new RegExp(String.raw`\bfad(?:e|es|ing)\s+out\s+(?:over\s+)?(?:the\s+last\s+)?${N}\s*${SECONDS_UNIT}`, 'i');
const MUSIC_VOLUME = new RegExp(String.raw`${N}\s*%\s*volume|volume\s*(?:of|at|to|:)?\s*${N}\s*%|音量\s*${N}\s*%`, 'i');
const MUSIC_WORDS = /\bmusic\b|\bsoundtrack\b|\bbgm\b|\bthe\s+(?:uploaded\s+)?(?:audio|song)\b|背景音乐|配乐|音乐/i;

/** Music phrases come out of the text: their numbers are not the video's duration. */
function takeMusic(text: Remaining): RequestAudio | undefined {
  const fade = text.take(MUSIC_FADE_OUT);
  const volume = text.take(MUSIC_VOLUME);
  const named = text.test(MUSIC_WORDS);
  if (!fade && !volume && !named) return undefined;
  const audio: RequestAudio = {};
  if (volume) audio.volume = Math.min(1, Number(volume[1] ?? volume[2] ?? volume[3]) / 100);
  if (fade) audio.fade_out_s = Math.min(10, Number(fade[1]));
  return audio;
}

/** The options named in `text`; phrases with numbers of their own are taken out of it. */
export function takeKeywords(text: Remaining): AgentRequest {
  const transitionLength = text.take(TRANSITION_LENGTH);
  const audio = takeMusic(text);
  const prose = text.text;
  return present<AgentRequest>({
    duration_s: readDuration(prose),
    aspect_ratio: readAspectRatio(prose),
    resolution: firstOf(RESOLUTION_WORDS, prose),
    fps: readFps(prose),
    quality: firstOf(QUALITY_WORDS, prose),
    motion: firstOf(MOTION_WORDS, prose),
    motion_intensity: firstOf(INTENSITY_WORDS, prose),
    fit: firstOf(FIT_WORDS, prose),
    background: readBackground(prose),
    transition: firstOf(TRANSITION_WORDS, prose),
    transition_s: transitionLength && Math.min(2, Math.max(0.2, Number(transitionLength[1] ?? transitionLength[2]))),
    audio,
  });
}

const GENERATION_WORDS =
  /\bdiffusion\b|\bpixverse\b|\bseedance\b|\btext[\s-]to[\s-]video\b|\bai[\s-]generated\b|\bgenerat\w*\s+(?:an?\s+)?ai\b|\bwith\s+(?:an?\s+)?(?:ai|generative)\s+model\b|AI\s*生成|文生视频|扩散模型/i;
const EXPORT_WORDS = /\bexport\b|\bdownload\b|导出|下载/i;

/** Generating video with a model, which this engine cannot do. */
export const asksForGeneration = (text: string) => GENERATION_WORDS.test(text);

export const asksForExport = (text: string) => EXPORT_WORDS.test(text);
