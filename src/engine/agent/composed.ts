import { FITS, MOTIONS, QUALITIES, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS } from '../../shared/jobs/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, MOTION_INTENSITIES, RESOLUTIONS } from '../../shared/jobs/job-options.ts';
import { overlay, present, type AgentRequest, type RequestCaption } from './request.ts';
import { alternatives, HEX, member, NUMBER } from './text-patterns.ts';

/**
 * The option sentences the worker composes after the prompt
 * (src/workers/instruction.ts, docs/instructions.md), read back exactly.
 *
 * They are peeled off the end of the instruction one at a time: the prompt in
 * front may hold anything, even unbalanced quotes, and a caption's JSON string
 * literal cannot end early because its own quotes are escaped. A sentence
 * nearer the end wins over an earlier one that sets the same option.
 */

interface SentenceRule {
  /** anchored at the end of the text, starting at a word boundary */
  pattern: RegExp;
  read(groups: (string | undefined)[]): AgentRequest | undefined;
}

const N = `(${NUMBER})`;
const SECONDS = String.raw`seconds?`;
const oneOf = (values: readonly (string | number)[]) => `(${alternatives(values)})`;

const lastSentencePattern = (body: string) => new RegExp(String.raw`(?<=^|\s)${body}\.\s*$`, 'i');

function rule(body: string, read: SentenceRule['read']): SentenceRule {
  return { pattern: lastSentencePattern(body), read };
}

/** A revision's: the caption sentences after it replace the captions the timeline had instead of adding to them. */
const REPLACES_CAPTIONS = lastSentencePattern('replace the earlier captions with the following');

function readCaption([literal, position, start, end, size, color]: (string | undefined)[]): AgentRequest | undefined {
  let text: unknown;
  try {
    text = JSON.parse(literal ?? '');
  } catch {
    return undefined;
  }
  if (typeof text !== 'string') return undefined;
  const caption = present<RequestCaption>({
    text,
    start_s: Number(start),
    end_s: Number(end),
    position: member(TEXT_POSITIONS, position),
    size: member(TEXT_SIZES, size),
    color,
  });
  return { text: [caption] };
}

function readFormat([aspect, resolutionAfterAspect, resolution, fps, quality]: (string | undefined)[]): AgentRequest | undefined {
  const request = present<AgentRequest>({
    aspect_ratio: member(ASPECT_RATIOS, aspect),
    resolution: member(RESOLUTIONS, resolutionAfterAspect ?? resolution),
    fps: fps === undefined ? undefined : member(FRAME_RATES, fps),
    quality: member(QUALITIES, quality),
  });
  return Object.keys(request).length > 0 ? request : undefined;
}

function readMusic([percent, fraction, fadeOut, noFade]: (string | undefined)[]): AgentRequest {
  const volume = percent !== undefined ? Number(percent) / 100 : fraction !== undefined ? Number(fraction) : undefined;
  const fade_out_s = noFade !== undefined ? 0 : fadeOut !== undefined ? Number(fadeOut) : undefined;
  return { audio: present({ volume, fade_out_s }) };
}

const RULES: SentenceRule[] = [
  rule(
    String.raw`add the text ("(?:[^"\\]|\\[^])*")(?: (?:at|in) the ${oneOf(TEXT_POSITIONS)})? from ${N} s to ${N} s(?:, ${oneOf(TEXT_SIZES)} size)?(?:, colou?r (${HEX}))?`,
    readCaption,
  ),
  rule(`motion: ${oneOf(MOTIONS)}(?:, ${oneOf(MOTION_INTENSITIES)} intensity)?`, ([motion, intensity]) =>
    present({ motion: member(MOTIONS, motion), motion_intensity: member(MOTION_INTENSITIES, intensity) }),
  ),
  rule(`motion intensity: ${oneOf(MOTION_INTENSITIES)}`, ([intensity]) => ({ motion_intensity: member(MOTION_INTENSITIES, intensity) })),
  rule(`duration: ${N} ${SECONDS}`, ([duration]) => ({ duration_s: Number(duration) })),
  rule(
    `(?:(?:aspect ratio ${oneOf(ASPECT_RATIOS)}(?: at ${oneOf(RESOLUTIONS)})?|resolution ${oneOf(RESOLUTIONS)}),? ?)?` +
      `(?:${oneOf(FRAME_RATES)} fps,? ?)?(?:${oneOf(QUALITIES)} quality)?`,
    readFormat,
  ),
  rule(`fit: ${oneOf(FITS)}(?: on an? (${HEX}) background)?`, ([fit, background]) => present({ fit: member(FITS, fit), background })),
  rule(`background colou?r (${HEX})`, ([background]) => present({ background })),
  rule(`transitions: ${oneOf(TRANSITIONS)}(?:, ${N} ${SECONDS} each)?`, ([transition, length]) =>
    present({ transition: member(TRANSITIONS, transition), transition_s: length === undefined ? undefined : Number(length) }),
  ),
  rule(`transition length: ${N} ${SECONDS}`, ([length]) => ({ transition_s: Number(length) })),
  rule(
    `use the uploaded audio as background music(?: at (?:${N}% volume|volume ${N}))?(?:, (?:fading out over the last ${N} ${SECONDS}|(with no fade-out)))?`,
    readMusic,
  ),
];

function lastSentence(text: string): { index: number; request: AgentRequest } | undefined {
  for (const { pattern, read } of RULES) {
    const match = pattern.exec(text);
    const request = match ? read(match.slice(1)) : undefined;
    if (match && request) return { index: match.index, request };
  }
  return undefined;
}

/** The composed option sentences at the end of `text`, and the text before them (the prompt). */
export function peelComposedSentences(text: string): { prompt: string; request: AgentRequest; replacesCaptions: boolean } {
  let prompt = text;
  let request: AgentRequest = {};
  let replacesCaptions = false;
  for (;;) {
    const marker = REPLACES_CAPTIONS.exec(prompt);
    if (marker) {
      replacesCaptions = true;
      prompt = prompt.slice(0, marker.index);
      continue;
    }
    const found = lastSentence(prompt);
    if (!found) return { prompt, request, replacesCaptions };
    request = overlay(found.request, request);
    prompt = prompt.slice(0, found.index);
  }
}
