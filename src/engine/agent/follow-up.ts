import { MOTION_INTENSITIES, type MotionIntensity } from '../../shared/jobs/job-options.ts';
import type { AgentRequest } from './request.ts';
import { QUOTED, unquote, type Remaining } from './text-patterns.ts';

/**
 * Follow-up edits: phrases that change what an earlier instruction of the
 * session asked for rather than state an option. They are taken out of the
 * text before anything else is read, so that "make the zoom slower" does not
 * also read as "zoom in", nor "remove the music" as "add music".
 *
 * - slower / gentler / more subtle / 慢一点 / 更慢: motion intensity one step down (strong → normal → subtle)
 * - faster / stronger / more dramatic / 快一点 / 更快: one step up
 * - "change the text to …" (quoted, or the rest of the sentence) / 把字幕改成…: the first caption's text;
 *   a caption spanning the video when there was none
 * - remove the music / no music / 去掉音乐: no background music
 * - remove the text / captions / 去掉字幕: no captions
 */
export interface FollowUpEdits {
  intensity?: 'lower' | 'higher';
  removeMusic?: true;
  removeText?: true;
  captionText?: string;
  /** the instruction's own captions replace the earlier ones (a revision's caption options, see composed.ts) */
  replaceCaptions?: true;
}

const SUBJECT = String.raw`(?:(?:the|it|this)\s+)?(?:(?:zoom(?:[\s-](?:in|out))?|pan|motion|movement|animation|camera(?:\s+move)?)\s+)?`;
const EDIT_VERB = String.raw`(?:make|keep|set)\s+${SUBJECT}`;

const SLOWER = new RegExp(
  String.raw`\b${EDIT_VERB}(?:a\s+bit\s+|a\s+little\s+|much\s+)?(?:slower|gentler|subtler|calmer|more\s+subtle|less\s+intense)\b|\bslow\s+(?:${SUBJECT})?down\b|\bslower\b|\bless\s+(?:motion|movement|zoom)\b|慢一点|慢一些|更慢|放慢|减弱`,
  'i',
);
const FASTER = new RegExp(
  String.raw`\b${EDIT_VERB}(?:a\s+bit\s+|a\s+little\s+|much\s+)?(?:faster|stronger|bigger|more\s+dramatic|more\s+intense|more\s+dynamic)\b|\bspeed\s+(?:${SUBJECT})?up\b|\bfaster\b|\bstronger\b|\bmore\s+(?:motion|movement|zoom)\b|快一点|快一些|更快|加快|加强|更强`,
  'i',
);

const REMOVE = String.raw`(?:remove|delete|drop|take\s+out|get\s+rid\s+of|turn\s+off)\s+(?:(?:the|all(?:\s+the)?|any)\s+)?`;
const MUSIC_WORDS = String.raw`(?:background\s+)?(?:music|audio|soundtrack|bgm|song)`;
const TEXT_WORDS = String.raw`(?:text|captions?|titles?|subtitles?|words)`;
const ZH_REMOVE = '(?:去掉|去除|删除|删掉|移除|不要|关掉)';

const REMOVE_MUSIC = new RegExp(
  String.raw`\b${REMOVE}${MUSIC_WORDS}\b|\b(?:no|without)\s+${MUSIC_WORDS}\b|\bmute\b|${ZH_REMOVE}(?:背景)?(?:音乐|配乐)|静音`,
  'i',
);
const REMOVE_TEXT = new RegExp(String.raw`\b${REMOVE}${TEXT_WORDS}\b|\b(?:no|without)\s+${TEXT_WORDS}\b|${ZH_REMOVE}(?:字幕|标题|文字)`, 'i');

const SENTENCE_END = String.raw`(?=[.!?。！？](?:\s|$)|$)`;
const CHANGE_TEXT = new RegExp(
  String.raw`\b(?:change|set|replace|update|edit|make)\s+(?:the\s+)?(?:text|caption|title|subtitle)\s+(?:to|with|into|as|so\s+it\s+(?:says|reads))\s*[:：]?\s*(?:${QUOTED}|(.+?))\s*${SENTENCE_END}` +
    String.raw`|(?:把)?(?:字幕|标题|文字)(?:改成|改为|换成)\s*[:：]?\s*(?:${QUOTED}|([^。！？]+))`,
  'i',
);

function captionTextOf(match: RegExpExecArray): string | undefined {
  const [, quoted, plain, quotedZh, plainZh] = match;
  const token = quoted ?? quotedZh;
  if (token !== undefined) return unquote(token);
  return (plain ?? plainZh)?.trim() || undefined;
}

/** Takes the follow-up phrases out of `text`. */
export function takeFollowUpEdits(text: Remaining): FollowUpEdits {
  const edits: FollowUpEdits = {};
  const change = text.take(CHANGE_TEXT);
  const captionText = change && captionTextOf(change);
  if (captionText !== undefined) edits.captionText = captionText;
  if (text.take(REMOVE_MUSIC)) edits.removeMusic = true;
  if (text.take(REMOVE_TEXT)) edits.removeText = true;
  if (text.take(SLOWER)) edits.intensity = 'lower';
  else if (text.take(FASTER)) edits.intensity = 'higher';
  return edits;
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
