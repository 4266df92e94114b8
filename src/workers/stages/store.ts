import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { timelineSummary } from '../../shared/draft.ts';
import { JobError } from '../../shared/errors.ts';
import { probeMedia } from '../../shared/ffprobe.ts';
import { runProcess } from '../../shared/process.ts';
import type { Stage, StageContext } from '../stage-context.ts';

const POSTER_TIMEOUT_MS = 60_000;

async function extractPoster(context: StageContext, videoPath: string, posterPath: string, atS: number): Promise<void> {
  await runProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-y', '-ss', atS.toFixed(3), '-i', videoPath, '-frames:v', '1', '-q:v', '3', '-update', '1', posterPath],
    { timeoutMs: POSTER_TIMEOUT_MS, signal: context.signal },
  );
}

/**
 * Downloads the MP4 into storage, checks it is a real video (ffprobe), keeps a
 * poster frame and records the result: the job has succeeded.
 */
export const storeStage: Stage = {
  step: 'store',
  name: 'storing',
  done: () => false,
  async run(context) {
    const { job, storage } = context;
    const videoKey = `outputs/${job.id}/video.mp4`;
    const posterKey = `outputs/${job.id}/poster.jpg`;
    const videoPath = storage.localPath(videoKey);
    await mkdir(path.dirname(videoPath), { recursive: true });
    const url = job.checkpoint.renderOutputUrl as string;
    await context.backend((client) => client.downloadToFile(url, videoPath, { signal: context.signal, maxBytes: context.settings.maxDownloadBytes }));
    await context.progress(0.5);

    const media = await probeMedia(videoPath, { signal: context.signal });
    if (!media.video || media.durationS <= 0) {
      throw new JobError('render_failed', 'The backend returned a file that is not a playable video.', true);
    }
    await extractPoster(context, videoPath, storage.localPath(posterKey), Math.min(media.durationS / 2, 1));
    const draft = job.checkpoint.draft;
    await context.records.update(job.id, {
      result: {
        videoKey,
        posterKey,
        width: media.video.width,
        height: media.video.height,
        durationS: Math.round(media.durationS * 1000) / 1000,
        sizeBytes: media.sizeBytes,
        timelineSummary: draft ? timelineSummary(draft) : undefined,
        creditsUsed: job.checkpoint.creditsUsed,
      },
    });
  },
};
