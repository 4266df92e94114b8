import type { Checkpoint } from '../shared/jobs/job-record.ts';

/**
 * What a job keeps when the backend loses its session (1002; e.g. the engine
 * restarted): everything that lived in the session goes (the session, its
 * uploads, a render started in it), but an instruction whose edit came back
 * as a saved draft is not sent again. The draft is kept with the files it
 * points at (`draftFiles`); the upload stage moves it onto the files uploaded
 * into the new session and the saved draft is rendered. Only when no draft
 * was saved (the instruction had not finished) is the instruction sent again:
 * its edit was lost with the session.
 */
export function checkpointAfterSessionLoss(checkpoint: Checkpoint): Checkpoint {
  const session: Checkpoint = { sessionId: undefined, sessionToken: undefined, uploaded: undefined, baseDraft: undefined, replayPending: undefined };
  const renderBegun = Boolean(checkpoint.renderStartedAt);
  // a render id is never used twice: one started in the lost session is gone with it, and did not fail
  const render: Checkpoint = renderBegun
    ? {
        renderId: undefined,
        renderAttempt: (checkpoint.renderAttempt ?? 1) + 1,
        rendersCountFrom: (checkpoint.rendersCountFrom ?? 0) + 1,
        renderStartedAt: undefined,
        renderOutputUrl: undefined,
        renderOutputs: undefined,
      }
    : {};
  if (checkpoint.instruction?.completedAt && checkpoint.draft) {
    return { ...session, ...render, draftFiles: checkpoint.draftFiles ?? checkpoint.uploaded };
  }
  return {
    ...session,
    instruction: undefined,
    draft: undefined,
    draftJson: undefined,
    draftFiles: undefined,
    renderId: undefined,
    renderAttempt: undefined,
    rendersCountFrom: undefined,
    rendersLost: undefined,
    renderStartedAt: undefined,
    renderOutputUrl: undefined,
    renderOutputs: undefined,
  };
}
