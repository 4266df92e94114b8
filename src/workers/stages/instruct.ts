import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyAccumulator, type CollectedReply } from '../../shared/backend/reply-collector.ts';
import { backendDraftSchema, isExportable, type BackendDraft } from '../../shared/jobs/backend-draft.ts';
import { TRACK_TYPE } from '../../shared/jobs/draft.ts';
import { BackendError } from '../../shared/errors/backend-error.ts';
import type { FixedRetryCode } from '../../shared/errors/error-codes.ts';
import { JobError } from '../../shared/errors/job-error.ts';
import type { Checkpoint } from '../../shared/jobs/job-record.ts';
import { jobInstruction } from '../../shared/jobs/instruction.ts';
import type { Stage, StageContext } from '../stage-context.ts';

type InstructionCheckpoint = NonNullable<Checkpoint['instruction']>;

/** Transport failures after which the instruction may or may not have reached the backend. */
const UNCERTAIN = new Set<unknown>(['timeout', 'stream', 'network']);

/** Codes a backend may put in an in-stream error that are a terminal job outcome of their own. */
const TERMINAL_STREAM_CODES: readonly FixedRetryCode[] = ['engine_capability'];
const isTerminalStreamCode = (code: string | undefined): code is FixedRetryCode => TERMINAL_STREAM_CODES.includes(code as FixedRetryCode);

function streamError(error: { code?: string; message: string }): Error {
  if (isTerminalStreamCode(error.code)) return new JobError(error.code, error.message);
  const numeric = Number(error.code);
  if (Number.isInteger(numeric) && numeric > 0) return new BackendError(numeric, error.message, { endpoint: 'run_sse' });
  return new BackendError('stream', `the backend reported an error: ${error.message}`, { endpoint: 'run_sse' });
}

/** A session's draft as the protocol reads it, with the bytes the backend wrote it in. */
interface SessionDraft {
  draft: BackendDraft;
  json?: string;
}

/** The longest pause between two reads of a session's state while an edit is awaited. */
const MAX_STATE_PAUSE_MS = 5_000;

const fingerprint = (draft: BackendDraft | undefined) => (draft ? createHash('sha256').update(JSON.stringify(draft)).digest('hex') : '');

/** The session's draft, when the backend holds one the protocol can read (only `t`, `tt`, `sg`, `d`, `m` are checked). */
async function sessionDraft(context: StageContext, sessionId: string): Promise<SessionDraft | undefined> {
  const state = await context.backend((client) => client.getState(sessionId, { signal: context.signal }));
  const parsed = backendDraftSchema.safeParse(state.state.draft);
  return parsed.success ? { draft: parsed.data, json: state.state.draftJson } : undefined;
}

async function availableCredits(context: StageContext): Promise<number | undefined> {
  return context.backend((client) => client.creditsBalance({ signal: context.signal })).then(
    (balance) => balance.available,
    () => undefined,
  );
}

/**
 * The edited draft, if the instruction's edit shows in the session: the draft
 * changed since it was sent, can be exported, and (a revision) is not the
 * timeline it edits.
 */
async function landedDraft(context: StageContext, sessionId: string, sent: InstructionCheckpoint): Promise<SessionDraft | undefined> {
  const read = await sessionDraft(context, sessionId);
  const seen = fingerprint(read?.draft);
  const base = context.job.checkpoint.baseDraft;
  return read && isExportable(read.draft) && seen !== sent.draftBefore && (!base || seen !== fingerprint(base)) ? read : undefined;
}

/** Reads the state, with pauses that double, until the edit shows or `waitMs` has passed. */
async function awaitLanding(context: StageContext, sessionId: string, sent: InstructionCheckpoint, waitMs: number): Promise<SessionDraft | undefined> {
  const giveUpAt = Date.now() + waitMs;
  for (let pause = context.settings.pollIntervalMs; ; pause = Math.min(pause * 2, MAX_STATE_PAUSE_MS)) {
    const landed = await landedDraft(context, sessionId, sent);
    const left = giveUpAt - Date.now();
    if (landed || left <= 0) return landed;
    await sleep(Math.min(pause, left), undefined, { signal: context.signal });
  }
}

const videoSources = (draft: BackendDraft) =>
  JSON.stringify(draft.t.flatMap((track) => (track.tt === TRACK_TYPE.video ? track.sg.map((sg) => (sg as { src?: unknown } | null)?.src ?? null) : [])));

/**
 * A revision's edit must be of its base timeline: a backend that ignored the
 * restore edited whatever its session held last (another product's pictures).
 */
function checkBuiltOnBase(context: StageContext, draft: BackendDraft): void {
  const base = context.job.checkpoint.baseDraft;
  if (base && videoSources(draft) !== videoSources(base)) {
    throw new JobError(
      'revision_wrong_timeline',
      "The backend applied the revision to another timeline than its parent's (it did not restore the parent's draft before editing); nothing was rendered.",
    );
  }
}

/**
 * After a crash or a dropped stream the instruction's fate is unknown. The
 * state tells whether its edit landed; if not, the credits tell whether the
 * backend took it anyway (still working, or lost it after charging). Only an
 * instruction that neither landed nor was charged is sent again: the backend
 * charges per message.
 */
async function settleUncertain(context: StageContext, sessionId: string, sent: InstructionCheckpoint): Promise<SessionDraft | 'resend'> {
  const landed = await landedDraft(context, sessionId, sent);
  if (landed) return landed;
  const credits = await availableCredits(context);
  const charged = sent.creditsBefore === undefined || credits === undefined || credits < sent.creditsBefore;
  if (!charged) return 'resend';
  const late = await awaitLanding(context, sessionId, sent, context.settings.landingWaitMs);
  if (late) return late;
  // terminal: a retry would only look again, never send it (one instruction per job); a new job is the tenant's choice to pay again
  throw new JobError(
    'instruction_uncertain',
    'The backend charged for the instruction but its edit never appeared in the session. It was not sent again, so it is not paid twice; submit a new job to have it made (the backend charges that one).',
  );
}

/** Credits the backend's tool results say the edit cost, when they say so. */
function creditsReported(reply: CollectedReply): number | undefined {
  const amounts = reply.toolResults
    .map((result) => (result.response as { credits_used?: unknown } | null)?.credits_used)
    .filter((amount): amount is number => typeof amount === 'number');
  return amounts.length > 0 ? amounts.reduce((a, b) => a + b, 0) : undefined;
}

/**
 * One /run_sse exchange, read to its end; `base` is restored as the session's
 * draft first. The caller has made sure this attempt owns the job (an
 * attempt another one took over would be charged twice).
 */
async function exchange(context: StageContext, sessionId: string, text: string, base?: BackendDraft): Promise<CollectedReply> {
  const reply = new ReplyAccumulator();
  let events = 0;
  await context.backend(async (client) => {
    for await (const event of client.runSse(sessionId, text, { signal: context.signal, ...(base && { stateDelta: { draft: base } }) })) {
      reply.add(event);
      if (++events % 4 === 0) await context.progress(Math.min(0.9, events / 40));
    }
  });
  return reply.result();
}

/**
 * A revision whose parent's session the backend lost runs in a new one:
 * its parents' instructions are sent again first, to rebuild the timeline.
 */
async function replayLineage(context: StageContext, sessionId: string): Promise<void> {
  for (const text of context.job.lineage ?? []) {
    await context.record.assertOwner();
    const reply = await exchange(context, sessionId, text);
    if (reply.error) throw streamError(reply.error);
  }
  context.logger.info({ instructions: context.job.lineage?.length }, 'rebuilt the revised timeline in a new session');
  await context.checkpoint({ replayPending: false, baseDraft: (await sessionDraft(context, sessionId))?.draft });
}

/**
 * Sends the instruction and reads the reply; the state is read afterwards
 * either way. A reply of tool events only (about 30% of edits) may show its
 * edit in the state a moment later: the state is read again, more and more
 * slowly, for up to INSTRUCTION_LANDING_WAIT_S.
 */
async function send(context: StageContext, sessionId: string, sent: InstructionCheckpoint): Promise<{ edited: SessionDraft; reply?: string; creditsUsed?: number }> {
  let outcome: CollectedReply;
  try {
    outcome = await exchange(context, sessionId, sent.text, context.job.checkpoint.baseDraft);
  } catch (error) {
    if (!(error instanceof BackendError && UNCERTAIN.has(error.code))) throw error;
    context.logger.warn({ code: error.code }, 'instruction stream ended early; checking the session');
    const settled = await settleUncertain(context, sessionId, sent);
    if (settled === 'resend') throw error; // retried by BullMQ, which sends it again
    return { edited: settled };
  }
  if (outcome.error) throw streamError(outcome.error);
  const edited = await awaitLanding(context, sessionId, sent, outcome.text ? 0 : context.settings.landingWaitMs);
  if (!edited) throw new JobError('instruction_not_applied', 'The backend answered the instruction but its session holds no new timeline to render.');
  return { edited, reply: outcome.text || undefined, creditsUsed: creditsReported(outcome) };
}

/**
 * Sends the instruction over /run_sse, once per job: the checkpoint records
 * it as sent (with the draft and credits it was sent against) before the
 * request, and a job resumed after a crash settles what happened instead of
 * sending it again.
 */
export const instructStage: Stage = {
  step: 'instruct',
  name: 'instructing',
  done: (checkpoint) => Boolean(checkpoint.instruction?.completedAt && checkpoint.draft),
  async run(context) {
    const { job } = context;
    const sessionId = job.checkpoint.sessionId as string;
    const pending = job.checkpoint.instruction;
    let text: string;
    if (pending && !pending.completedAt) {
      const settled = await settleUncertain(context, sessionId, pending);
      if (settled !== 'resend') {
        context.logger.info('instruction had landed before this attempt; not sending it again');
        checkBuiltOnBase(context, settled.draft);
        await context.checkpoint({ instruction: { ...pending, completedAt: new Date().toISOString() }, draft: settled.draft, draftJson: settled.json });
        return;
      }
      text = pending.text;
    } else {
      if (job.checkpoint.replayPending) await replayLineage(context, sessionId);
      text = jobInstruction(job);
    }
    const [before, creditsBefore] = await Promise.all([sessionDraft(context, sessionId), availableCredits(context)]);
    const sent = { text, sentAt: new Date().toISOString(), draftBefore: fingerprint(before?.draft), creditsBefore };
    // The write is fenced: it succeeds only for the attempt that owns the job, which then sends at once. A separate
    // ownership check between the two would leave an instruction recorded as sent that no one sent, and the attempt
    // that takes over would wait for an edit that never comes.
    await context.checkpoint({ instruction: sent });
    const { edited, reply, creditsUsed } = await send(context, sessionId, sent);
    checkBuiltOnBase(context, edited.draft);
    await context.checkpoint({ instruction: { ...sent, completedAt: new Date().toISOString(), reply }, draft: edited.draft, draftJson: edited.json, creditsUsed });
  },
};
