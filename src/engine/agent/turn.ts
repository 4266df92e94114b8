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
}

/** What the agent does with one instruction. */
export type Turn =
  /** a request this engine cannot serve: say so, then fail with `engine_capability` */
  | { kind: 'refuse'; text: string; errorMessage: string }
  /** nothing to edit: only a text reply */
  | { kind: 'reply'; text: string }
  /** a new draft, with the request it was built from, the edit tool's arguments and the reply */
  | { kind: 'edit'; request: AgentRequest; draft: Draft; toolArgs: Record<string, unknown>; text: string };

const pictureCount = (draft: Draft) => draft.t.find((track) => track.tt === TRACK_TYPE.video)?.sg.length ?? 0;

function toolArgs(operation: string, settings: Settings, draft: Draft, input: TurnInput): Record<string, unknown> {
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
  const { previous, pictures, music } = input;
  if (pictures.length === 0) return { kind: 'reply', text: NO_MEDIA_REPLY };

  const request = overlay(applyFollowUpEdits(previous?.request ?? {}, reading.edits, DEFAULTS.motion_intensity), reading.request);
  const settings = resolveSettings(request, pictures.length);
  const draft = buildDraft(settings, pictures, music);
  const notes = settings.audio && !music ? [NO_AUDIO_NOTE] : [];
  if (!previous) {
    return { kind: 'edit', request, draft, toolArgs: toolArgs('create_timeline', settings, draft, input), text: creationReply(settings, draft, notes) };
  }
  if (isDeepStrictEqual(draft, previous.draft)) {
    return { kind: 'reply', text: [...notes, reading.asksForExport ? EXPORT_READY_REPLY : UNCHANGED_REPLY].join(' ') };
  }
  const before = resolveSettings(previous.request, pictureCount(previous.draft));
  return {
    kind: 'edit',
    request,
    draft,
    toolArgs: { ...toolArgs('update_timeline', settings, draft, input), changed: changedOptions(before, settings) },
    text: updateReply(before, settings, draft, notes),
  };
}
