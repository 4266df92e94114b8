import type { Stage } from '../stage-context.ts';

/** A backend session for the job, or the one its batch shares (the token is fetched by the first call; its kind is kept with the session). */
export const connectStage: Stage = {
  step: 'connect',
  name: 'connecting',
  done: (checkpoint) => Boolean(checkpoint.sessionId),
  async run(context) {
    const create = () =>
      context.backend(async (client, token) => ({ sessionId: (await client.createSession({ language: 'en' }, { signal: context.signal })).sessionId, token }));
    const { batchId } = context.job;
    const { sessionId, token } = batchId ? await context.batchSessions.sessionFor(batchId, create) : await create();
    // a revision whose parent's session is gone rebuilds the timeline from its lineage first
    await context.checkpoint({ sessionId, sessionToken: token, ...(context.job.lineage?.length ? { replayPending: true } : {}) });
  },
};
