import { isDeepStrictEqual } from 'node:util';
import { TRACK_TYPE, type Draft } from '../../shared/jobs/draft.ts';
import { INTENSITY_AMOUNT } from '../../shared/jobs/job-options.ts';
import { SKILL_SOURCE } from '../../shared/jobs/presets.ts';
import { buildDraft, type DraftMedia, type DraftPicture } from './draft-build.ts';
import { applyFollowUpEdits } from './follow-up.ts';
import { readInstruction } from './read.ts';
import {
  CAPABILITY_REFUSAL,
  changedOptions,
  creationReply,
  EXPORT_READY_REPLY,
  NO_AUDIO_NOTE,
  NO_MEDIA_REPLY,
  noLogoNote,
  UNCHANGED_REPLY,
  updateReply,
} from './reply.ts';
import { overlay, type AgentRequest } from './request.ts';
import { DEFAULTS, resolveSettings, type Settings } from './settings.ts';

/** The skills (X-Skill-Source) whose presets generate video with a model. */
const GENERATIVE_SKILLS: ReadonlySet<string> = new Set([SKILL_SOURCE.diffusion, SKILL_SOURCE.pixverse]);

export interface TurnInput {
  instruction: string;
  /** the request's X-Skill-Source header */
  skillSource?: string;
  /** the session's draft and the request it was built from, when an earlier instruction made one */
  previous?: { request: AgentRequest; draft: Draft };
  /** the pictures of the session's latest upload, in order */
  pictures: readonly DraftPicture[];
  /** the first audio file of the latest upload */
  music?: DraftMedia;
  /** the logo of the session's draft, when a follow-up edits it (a new timeline finds its logo among the pictures) */
  logo?: DraftMedia;
}

/** The files a turn's timeline shows. */
export type TurnMedia = Pick<TurnInput, 'pictures' | 'music' | 'logo'>;

/** What the agent does with one instruction. */
export type Turn =
  /** a request this engine cannot serve: say so, then fail with `engine_capability` */
  | { kind: 'refuse'; text: string; errorMessage: string }
  /** nothing to edit: only a text reply */
  | { kind: 'reply'; text: string }
  /** a new draft, with the request it was built from, the edit tool's arguments and the reply */
  | { kind: 'edit'; request: AgentRequest; draft: Draft; toolArgs: Record<string, unknown>; text: string; media: TurnMedia };

const pictureCount = (draft: Draft) => draft.t.find((track) => track.tt === TRACK_TYPE.video)?.sg.length ?? 0;

/**
 * The logo a request names, and the pictures without it: the logo the
 * timeline already has, or else the last uploaded picture of that file name
 * (the worker uploads the logo after the pictures).
 */
function separateLogo(input: TurnInput, file: string | undefined): TurnMedia {
  const { pictures, music } = input;
  if (file === undefined) return { pictures, music };
  if (input.logo?.filename === file) return { pictures, music, logo: input.logo };
  const index = pictures.findLastIndex((picture) => picture.kind === 'image' && picture.filename === file);
  return index >= 0 ? { pictures: pictures.filter((_, i) => i !== index), music, logo: pictures[index] } : { pictures, music };
}

function toolArgs(operation: string, settings: Settings, draft: Draft, input: TurnMedia): Record<string, unknown> {
  const { text, audio, ...options } = settings;
  const hasMusic = draft.t.some((track) => track.tt === TRACK_TYPE.audio);
  return {
    operation,
    ...options,
    duration_ms: draft.d,
    intensity: INTENSITY_AMOUNT[settings.motion_intensity],
    captions: text.map((caption) => caption.text),
    music: hasMusic && input.music ? input.music.filename : null,
    media: input.pictures.map((picture) => picture.filename),
  };
}

/**
 * One instruction's turn. A session's first instruction builds a draft from
 * the request and the defaults; a later one starts from the request behind the
 * current draft, applies its follow-up edits and lays its own options over it,
 * so that what it does not mention stays as it was.
 */
export function planTurn(input: TurnInput): Turn {
  const reading = readInstruction(input.instruction);
  if ((input.skillSource !== undefined && GENERATIVE_SKILLS.has(input.skillSource)) || reading.asksForGeneration) {
    return { kind: 'refuse', ...CAPABILITY_REFUSAL };
  }
  const { previous } = input;
  const request = overlay(applyFollowUpEdits(previous?.request ?? {}, reading.edits, DEFAULTS.motion_intensity), reading.request);
  const media = separateLogo(input, request.logo?.file);
  const { pictures, music, logo } = media;
  if (pictures.length === 0) return { kind: 'reply', text: NO_MEDIA_REPLY };

  const settings = resolveSettings(request, pictures.length);
  const draft = buildDraft(settings, pictures, music, logo);
  const notes = [...(settings.audio && !music ? [NO_AUDIO_NOTE] : []), ...(settings.logo && !logo ? [noLogoNote(settings.logo.file)] : [])];
  if (!previous) {
    return { kind: 'edit', request, draft, media, toolArgs: toolArgs('create_timeline', settings, draft, media), text: creationReply(settings, draft, notes) };
  }
  if (isDeepStrictEqual(draft, previous.draft)) {
    return { kind: 'reply', text: [...notes, reading.asksForExport ? EXPORT_READY_REPLY : UNCHANGED_REPLY].join(' ') };
  }
  const before = resolveSettings(previous.request, pictureCount(previous.draft));
  return {
    kind: 'edit',
    request,
    draft,
    media,
    toolArgs: { ...toolArgs('update_timeline', settings, draft, media), changed: changedOptions(before, settings) },
    text: updateReply(before, settings, draft, notes),
  };
}
