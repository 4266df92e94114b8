import { ReplyAccumulator } from '../../shared/backend/reply-collector.ts';
import { draftSchema, type Draft } from '../../shared/draft.ts';
import { BackendError, JobError } from '../../shared/errors.ts';
import { composeInstruction } from '../instruction.ts';
import type { Stage, StageContext } from '../stage-context.ts';

/** The session's draft, when the backend holds a valid one. */
async function sessionDraft(context: StageContext, sessionId: string): Promise<Draft | undefined> {
  const state = await context.backend((client) => client.getState(sessionId, { signal: context.signal }));
  const parsed = draftSchema.safeParse(state.state.draft);
  return parsed.success ? parsed.data : undefined;
}

/** Codes a backend may put in an in-stream error that are a terminal job outcome of their own. */
const TERMINAL_STREAM_CODES = new Set(['engine_capability']);

function streamError(error: { code?: string; message: string }): Error {
  if (error.code && TERMINAL_STREAM_CODES.has(error.code)) return new JobError(error.code, error.message);
  const numeric = Number(error.code);
  if (Number.isInteger(numeric) && numeric > 0) return new BackendError(numeric, error.message, { endpoint: 'run_sse' });
  return new BackendError('stream', `the backend reported an error: ${error.message}`, { endpoint: 'run_sse' });
}

/**
 * Sends the instruction over /run_sse, once per job: the backend charges for
 * each message, so the checkpoint records it as sent before the request, and a
 * job resumed after a crash reads the session state instead of re-sending.
 * Replies often carry no text; the state is read either way to get the draft.
 */
export const instructStage: Stage = {
  step: 'instruct',
  name: 'instructing',
  done: (checkpoint) => Boolean(checkpoint.instruction?.completedAt && checkpoint.draft),
  async run(context) {
    const { job } = context;
    const sessionId = job.checkpoint.sessionId as string;
    const previous = job.checkpoint.instruction;
    if (previous && !previous.completedAt) {
      const draft = await sessionDraft(context, sessionId);
      if (draft) {
        context.logger.info({ job_id: job.id }, 'instruction had landed before the restart; not sending it again');
        await context.checkpoint({ instruction: { ...previous, completedAt: new Date().toISOString() }, draft });
        return;
      }
    }
    const images = job.inputs.filter((input) => input.role !== 'audio').length;
    const text = composeInstruction(job.prompt, job.options, { images, audio: images < job.inputs.length });
    const instruction = { text, sentAt: new Date().toISOString() };
    await context.checkpoint({ instruction });

    const reply = new ReplyAccumulator();
    let events = 0;
    await context.backend(async (client) => {
      for await (const event of client.runSse(sessionId, text, { signal: context.signal })) {
        reply.add(event);
        if (++events % 4 === 0) await context.progress(Math.min(0.9, events / 40));
      }
    });
    const outcome = reply.result();
    if (outcome.error) throw streamError(outcome.error);

    const draft = await sessionDraft(context, sessionId);
    if (!draft) {
      throw new JobError('instruction_not_applied', 'The backend answered the instruction but its session holds no timeline to render.');
    }
    await context.checkpoint({ instruction: { ...instruction, completedAt: new Date().toISOString(), reply: outcome.text || undefined }, draft });
  },
};
