import type { Stage } from '../stage-context.ts';

/** A backend session for the job, or the one its batch shares (the token is fetched by the first call). */
export const connectStage: Stage = {
  step: 'connect',
  name: 'connecting',
  done: (checkpoint) => Boolean(checkpoint.sessionId),
  async run(context) {
    const create = async () => (await context.backend((client) => client.createSession({ language: 'en' }, { signal: context.signal }))).sessionId;
    const { batchId } = context.job;
    const sessionId = batchId ? await context.batchSessions.sessionFor(batchId, create) : await create();
    // a revision whose parent's session is gone rebuilds the timeline from its lineage first
    await context.checkpoint({ sessionId, ...(context.job.lineage?.length ? { replayPending: true } : {}) });
  },
};
