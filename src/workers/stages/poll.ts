import { setTimeout as sleep } from 'node:timers/promises';
import { JobError } from '../../shared/errors/job-error.ts';
import { metrics } from '../../shared/infra/metrics/registry.ts';
import type { Stage, StageContext } from '../stage-context.ts';
import { isUnknownRender, replaceLostRender } from './lost-render.ts';
import { exportRender, renderIdFor } from './render.ts';

/** A failed or timed-out render is replaced once; a second one fails the job. */
const MAX_RENDERS = 2;

/**
 * Gives up on the current render and checkpoints the next one, with its own
 * id: the next attempt starts it, unless this was the last render the job
 * may have; then the job fails, and a client's retry starts it with a fresh
 * allowance.
 */
async function replaceRender(context: StageContext, code: 'render_failed' | 'render_timeout', why: string): Promise<never> {
  const { renderAttempt: attempt = 1, rendersCountFrom = 0 } = context.job.checkpoint;
  const last = attempt - rendersCountFrom >= MAX_RENDERS;
  await context.checkpoint({
    renderId: renderIdFor(context.job.id, attempt + 1),
    renderAttempt: attempt + 1,
    renderStartedAt: undefined,
    ...(last ? { rendersCountFrom: attempt, rendersLost: 0 } : {}),
  });
  if (last) throw new JobError(code, why, false);
  throw new JobError(code, `${why} Trying one more render.`, true);
}

/**
 * Polls the job's render until it completes (true), or until the backend
 * says it does not know it (false: the next render is checkpointed).
 */
async function pollRender(context: StageContext): Promise<boolean> {
  const id = context.job.checkpoint.renderId as string;
  const { renderStartedAt } = context.job.checkpoint;
  const giveUpAt = (renderStartedAt ? Date.parse(renderStartedAt) : Date.now()) + context.settings.renderTimeoutMs;
  for (;;) {
    const render = await context.backend((client) => client.getRender(id, { signal: context.signal })).catch(async (error: unknown) => {
      if (!isUnknownRender(error)) throw error;
      await replaceLostRender(context, id);
      return undefined;
    });
    if (!render) return false;
    if (render.status === 'completed') {
      if (!render.outputUrl) throw new JobError('render_failed', `Render ${id} completed without an output URL.`, true);
      const asked = context.job.options.outputs?.length ?? 0;
      if (asked > 0 && (render.outputs?.length ?? 0) < asked) {
        throw new JobError('outputs_unsupported', `The job asked for ${asked} renditions and the backend's render made ${render.outputs?.length ?? 1}.`);
      }
      await context.checkpoint({ renderOutputUrl: render.outputUrl, ...(asked > 0 && { renderOutputs: render.outputs?.slice(0, asked) }) });
      if (renderStartedAt) metrics.renderSeconds.observe(Math.max(0, Date.now() - Date.parse(renderStartedAt)) / 1000);
      return true;
    }
    if (render.status === 'failed') await replaceRender(context, 'render_failed', `The backend could not render the video${render.error ? `: ${render.error}` : '.'}`);
    if (Date.now() >= giveUpAt) {
      await context.backend((client) => client.cancelRender(id, { signal: context.signal })).catch((error: unknown) => context.logger.warn({ render_id: id, err: error }, 'could not cancel the late render'));
      await replaceRender(context, 'render_timeout', `The backend did not finish the render within ${context.settings.renderTimeoutMs / 1000} s (RENDER_TIMEOUT_S).`);
    }
    await context.progress(render.progress / 100);
    await sleep(Math.min(context.settings.pollIntervalMs, Math.max(0, giveUpAt - Date.now())), undefined, { signal: context.signal });
  }
}

/**
 * Polls the render until it ends, mapping the backend's progress onto the
 * job's. A render the backend no longer knows (it restarted, or expired it)
 * is exported again, once, from the saved draft under the next id; if the
 * backend lost the session too, that export answers 1002 and the job goes on
 * in a new session with the same draft (render-worker.ts).
 */
export const pollStage: Stage = {
  step: 'poll',
  name: 'rendering',
  done: (checkpoint) => Boolean(checkpoint.renderOutputUrl),
  async run(context) {
    while (!(await pollRender(context))) await exportRender(context);
  },
};
