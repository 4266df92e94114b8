import type { Stage, StageContext } from '../stage-context.ts';

/**
 * Render ids are derived from the job (and which render of it this is), so a
 * resumed job finds its render instead of starting another.
 */
export function renderIdFor(jobId: string, renderAttempt = 1): string {
  const base = `render_${jobId.replace(/^job_/, '')}`;
  return renderAttempt > 1 ? `${base}_${renderAttempt}` : base;
}

/**
 * Starts the export of the saved draft. The id is checkpointed before the
 * request; if the request's outcome is unknown (a crash, a dropped
 * connection), the resumed stage asks for that render before starting it.
 */
export async function exportRender(context: StageContext): Promise<void> {
  const { job } = context;
  const id = job.checkpoint.renderId ?? renderIdFor(job.id, job.checkpoint.renderAttempt);
  if (!job.checkpoint.renderId) await context.checkpoint({ renderId: id });
  const { draft, draftJson } = job.checkpoint;
  // the backend's draft goes back as the bytes its state sent: it is the backend's to read, not ours to rewrite
  const request = { id, sessionId: job.checkpoint.sessionId as string, draft, draftJson, output: { format: 'mp4', quality: 'high' } };
  await context.record.assertOwner();
  try {
    await context.backend((client) => client.startRender(request, { signal: context.signal }));
  } catch (error) {
    const existing = await context.backend((client) => client.getRender(id, { signal: context.signal })).catch(() => undefined);
    if (!existing) throw error;
    context.logger.info({ job_id: job.id, render_id: id }, 'render already started; polling it');
  }
  await context.checkpoint({ renderStartedAt: new Date().toISOString() });
}

export const renderStage: Stage = {
  step: 'render',
  name: 'rendering',
  done: (checkpoint) => Boolean(checkpoint.renderStartedAt),
  run: exportRender,
};
