import { BackendError } from '../../shared/errors/backend-error.ts';
import { JobError } from '../../shared/errors/job-error.ts';
import type { StageContext } from '../stage-context.ts';
import { renderIdFor } from './render.ts';

/** Renders the backend may lose in one run of renders before the job fails (each is exported again). */
const MAX_LOST = 1;

/** A 404 for a render or its output: the backend no longer knows it (restarted without it, or expired it). */
export function isUnknownRender(error: unknown): boolean {
  return error instanceof BackendError && error.code === 404;
}

/**
 * The backend no longer knows the job's render: checkpoints the next render,
 * under a new id (ids are never used twice), to be exported again from the
 * saved draft. A lost render does not count as a failed one. A second loss in
 * the same run of renders fails the job (`render_lost`); a client's retry
 * exports it once more.
 */
export async function replaceLostRender(context: StageContext, lostId: string): Promise<void> {
  const { renderAttempt: attempt = 1, rendersCountFrom = 0, rendersLost = 0 } = context.job.checkpoint;
  const again = rendersLost < MAX_LOST;
  const next = renderIdFor(context.job.id, attempt + 1);
  await context.checkpoint({
    renderId: next,
    renderAttempt: attempt + 1,
    renderStartedAt: undefined,
    renderOutputUrl: undefined,
    renderOutputs: undefined,
    rendersCountFrom: again ? rendersCountFrom + 1 : attempt,
    rendersLost: again ? rendersLost + 1 : 0,
  });
  if (!again) {
    throw new JobError('render_lost', `The backend lost this job's render twice (${lostId} was the second: it restarted or expired it). Retry the job to export it once more.`, false);
  }
  context.logger.warn({ render_id: lostId, next_render_id: next }, 'the backend no longer knows the render; exporting the saved draft again');
}
