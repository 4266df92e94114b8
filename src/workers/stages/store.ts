import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { timelineSummary } from '../../shared/jobs/draft.ts';
import { JobError } from '../../shared/errors/job-error.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import { runProcess } from '../../shared/infra/process.ts';
import type { Stage, StageContext } from '../stage-context.ts';
import { isUnknownRender, replaceLostRender } from './lost-render.ts';

const POSTER_TIMEOUT_MS = 60_000;

async function extractPoster(context: StageContext, videoPath: string, posterPath: string, atS: number): Promise<void> {
  await runProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-y', '-ss', atS.toFixed(3), ...localFileInput(videoPath), '-frames:v', '1', '-q:v', '3', '-update', '1', `file:${posterPath}`],
    { timeoutMs: POSTER_TIMEOUT_MS, signal: context.signal },
  );
}

interface StoredVideo {
  width: number;
  height: number;
  durationS: number;
  sizeBytes: number;
}

/** Downloads the render into `scratch`, checks it is a real video (ffprobe), and stores it with a poster frame. */
async function storeRender(context: StageContext, scratch: string, videoKey: string, posterKey: string): Promise<StoredVideo> {
  const videoPath = path.join(scratch, 'video.mp4');
  const posterPath = path.join(scratch, 'poster.jpg');
  const url = context.job.checkpoint.renderOutputUrl as string;
  await context.backend((client) => client.downloadToFile(url, videoPath, { signal: context.signal, maxBytes: context.settings.maxDownloadBytes })).catch(async (error: unknown) => {
    if (!isUnknownRender(error)) throw error;
    // the output is gone (the backend expired it): the next attempt exports the saved draft again
    await replaceLostRender(context, context.job.checkpoint.renderId as string);
    throw new JobError('render_lost', 'The backend no longer has the rendered video; exporting it again.', true);
  });
  await context.progress(0.5);
  const media = await probeMedia(videoPath, { signal: context.signal });
  if (!media.video || media.durationS <= 0) {
    throw new JobError('render_failed', 'The backend returned a file that is not a playable video.', true);
  }
  await extractPoster(context, videoPath, posterPath, Math.min(media.durationS / 2, 1));
  await context.storage.moveIn(videoKey, videoPath);
  await context.storage.moveIn(posterKey, posterPath);
  return { width: media.video.width, height: media.video.height, durationS: media.durationS, sizeBytes: media.sizeBytes };
}

/**
 * Downloads the MP4, checks it, stores it with a poster frame and records
 * the result: the job has succeeded.
 */
export const storeStage: Stage = {
  step: 'store',
  name: 'storing',
  done: () => false,
  async run(context) {
    const { job } = context;
    const videoKey = `outputs/${job.id}/video.mp4`;
    const posterKey = `outputs/${job.id}/poster.jpg`;
    const scratch = await mkdtemp(path.join(tmpdir(), `i2v-${job.id}-`));
    const video = await storeRender(context, scratch, videoKey, posterKey).finally(() => rm(scratch, { recursive: true, force: true }));
    const draft = job.checkpoint.draft;
    await context.record.update({
      result: {
        videoKey,
        posterKey,
        width: video.width,
        height: video.height,
        durationS: Math.round(video.durationS * 1000) / 1000,
        sizeBytes: video.sizeBytes,
        timelineSummary: draft ? timelineSummary(draft) : undefined,
        creditsUsed: job.checkpoint.creditsUsed,
      },
    });
  },
};
