import type { Stage } from '../stage-context.ts';

/** A backend session for the job (the token is fetched by the first call). */
export const connectStage: Stage = {
  step: 'connect',
  name: 'connecting',
  done: (checkpoint) => Boolean(checkpoint.sessionId),
  async run(context) {
    const session = await context.backend((client) => client.createSession({ language: 'en' }, { signal: context.signal }));
    await context.checkpoint({ sessionId: session.sessionId });
  },
};
