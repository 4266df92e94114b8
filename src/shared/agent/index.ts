/**
 * The embedded engine's "agent": a rule-based reading of plain-language
 * instructions into drafts (the grammar is src/engine/agent/grammar.ts,
 * described in docs/instructions.md).
 */
export { planTurn, type Turn, type TurnInput, type TurnMedia } from './turn.ts';
export { parseInstruction, readInstruction, type InstructionReading } from './read.ts';
export { GRAMMAR_RULES, type Rule } from './grammar.ts';
export { applyFollowUpEdits, type FollowUpEdits } from './follow-up.ts';
export { overlay, type AgentRequest, type RequestAudio, type RequestCaption, type RequestLogo } from './request.ts';
export { DEFAULTS, resolveSettings, type Settings } from './settings.ts';
export { buildDraft, type DraftMedia, type DraftPicture } from './draft-build.ts';
export { segmentSpans } from './timeline.ts';
