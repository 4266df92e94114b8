import type { TEXT_POSITIONS } from '../../shared/jobs/draft.ts';
import type { RequestCaption } from './request.ts';
import { DOUBLE_QUOTED, PLAIN_NUMBER, QUOTED, SECONDS_UNIT, unquote, type Remaining } from './text-patterns.ts';

/**
 * Captions in free phrasings: a caption word, then the quoted text, then
 * optionally where and when, e.g. `add the caption "Hello" at the top from 1 s to 3 s`,
 * `with the title “Summer Sale”`, `字幕「夏日促销」在顶部`, `字幕：夏日促销`.
 * Without a time the caption spans the whole video.
 */

type Position = (typeof TEXT_POSITIONS)[number];

const POSITION_WORDS: Record<string, Position> = {
  top: 'top', center: 'center', centre: 'center', middle: 'center', bottom: 'bottom',
  顶部: 'top', 上方: 'top', 中间: 'center', 居中: 'center', 底部: 'bottom', 下方: 'bottom',
};

const TIME = String.raw`(${PLAIN_NUMBER})(?:\s*${SECONDS_UNIT})?`;
const EN_CAPTION = new RegExp(
  String.raw`(?:\b(?:add|put|show|display|include|with|and)\s+)?(?:(?:the|a|an)\s+)?\b(?:text|caption|title|subtitle|words?)\s*(?:[:：]|saying|that\s+says|reading)?\s*${QUOTED}` +
    String.raw`(?:\s+(?:at|in|on)\s+the\s+(top|center|centre|middle|bottom))?(?:\s+from\s+${TIME}\s+to\s+${TIME})?`,
  'i',
);
const ZH_CAPTION = new RegExp(
  String.raw`(?:加上?|添加|显示)?(?:字幕|标题|文字)\s*(?:[:：]\s*)?(?:${QUOTED}|(?<=[:：]\s*)([^，。,.!?！？\s][^，。,.!?！？]*))(?:\s*[，,]?\s*(?:在|放在)?(顶部|上方|中间|居中|底部|下方))?`,
);

function caption(text: string, position: string | undefined, start?: string, end?: string): RequestCaption {
  const where = position === undefined ? undefined : POSITION_WORDS[position.toLowerCase()];
  const timing = start !== undefined && end !== undefined && Number(end) > Number(start) ? { start_s: Number(start), end_s: Number(end) } : {};
  return { text, ...timing, ...(where && { position: where }) };
}

/** Takes the captions out of `text`, English phrasings first. */
export function takeCaptions(text: Remaining): RequestCaption[] {
  const english = text.takeAll(EN_CAPTION).map(([, quoted, position, start, end]) => caption(unquote(quoted ?? '""'), position, start, end));
  const chinese = text.takeAll(ZH_CAPTION).map(([, quoted, plain, position]) => caption(quoted ? unquote(quoted) : (plain ?? '').trim(), position));
  return [...english, ...chinese].filter((found) => found.text !== '');
}

/** Quoted text left over is somebody's words, not an instruction: it is not read for keywords. */
export function dropQuotes(text: Remaining): void {
  text.takeAll(new RegExp(DOUBLE_QUOTED));
}
