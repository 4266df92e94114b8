import { setTimeout as sleep } from 'node:timers/promises';
import { JobError } from '../../shared/errors.ts';
import { metrics } from '../../shared/metrics/registry.ts';
import type { Stage } from '../stage-context.ts';
import { renderIdFor } from './render.ts';

/** A failed render is replaced once; a second failure fails the job. */
const MAX_RENDERS = 2;

/** Polls the render until it ends, mapping the backend's progress onto the job's. */
export const pollStage: Stage = {
  step: 'poll',
  name: 'rendering',
  done: (checkpoint) => Boolean(checkpoint.renderOutputUrl),
  async run(context) {
    const id = context.job.checkpoint.renderId as string;
    for (;;) {
      const render = await context.backend((client) => client.getRender(id, { signal: context.signal }));
      if (render.status === 'completed') {
        if (!render.outputUrl) throw new JobError('render_failed', `Render ${id} completed without an output URL.`, true);
        await context.checkpoint({ renderOutputUrl: render.outputUrl });
        const { renderStartedAt } = context.job.checkpoint;
        if (renderStartedAt) metrics.renderSeconds.observe(Math.max(0, Date.now() - Date.parse(renderStartedAt)) / 1000);
        return;
      }
      if (render.status === 'failed') {
        const why = `The backend could not render the video${render.error ? `: ${render.error}` : '.'}`;
        const attempt = context.job.checkpoint.renderAttempt ?? 1;
        if (attempt >= MAX_RENDERS) throw new JobError('render_failed', why);
        // one more render, with its own id, on the next attempt
        await context.checkpoint({ renderId: renderIdFor(context.job.id, attempt + 1), renderAttempt: attempt + 1, renderStartedAt: undefined });
        throw new JobError('render_failed', `${why} Trying one more render.`, true);
      }
      await context.progress(render.progress / 100);
      await sleep(context.settings.pollIntervalMs, undefined, { signal: context.signal });
    }
  },
};
