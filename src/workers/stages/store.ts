import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { timelineSummary } from '../../shared/jobs/draft.ts';
import { JobError } from '../../shared/errors/job-error.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import { runProcess } from '../../shared/infra/process.ts';
import type { OutputFormat } from '../../shared/jobs/job-options.ts';
import type { JobRecord, StoredOutput } from '../../shared/jobs/job-record.ts';
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

/** The file name extension a rendition of each format is stored under. */
const EXTENSIONS: Record<OutputFormat, string> = { mp4: 'mp4', webm: 'webm', gif: 'gif', 'mp4-hevc': 'mp4' };

/** A file of the render to store: where the backend serves it, what it is, and where it goes. */
interface OutputToStore {
  url: string;
  format: OutputFormat;
  videoKey: string;
  posterKey: string;
}

/** The job's renditions (one when it asked for none), the first at the keys a job's one video always had. */
function outputsToStore(job: JobRecord): OutputToStore[] {
  const asked = job.options.outputs ?? [{}];
  const urls = job.checkpoint.renderOutputs?.map((output) => output.url) ?? [job.checkpoint.renderOutputUrl as string];
  return asked.map((output, n) => {
    const format = output.format ?? 'mp4';
    const folder = n === 0 ? `outputs/${job.id}` : `outputs/${job.id}/${n}`;
    return { url: urls[n] as string, format, videoKey: `${folder}/video.${EXTENSIONS[format]}`, posterKey: `${folder}/poster.jpg` };
  });
}

/** Downloads one file of the render into `scratch`, checks it is a real video (ffprobe), and stores it with a poster frame. */
async function storeOutput(context: StageContext, scratch: string, output: OutputToStore, n: number): Promise<StoredOutput> {
  const videoPath = path.join(scratch, `${n}.${EXTENSIONS[output.format]}`);
  const posterPath = path.join(scratch, `${n}.jpg`);
  await context.backend((client) => client.downloadToFile(output.url, videoPath, { signal: context.signal, maxBytes: context.settings.maxDownloadBytes })).catch(async (error: unknown) => {
    if (!isUnknownRender(error)) throw error;
    // the output is gone (the backend expired it): the next attempt exports the saved draft again
    await replaceLostRender(context, context.job.checkpoint.renderId as string);
    throw new JobError('render_lost', 'The backend no longer has the rendered video; exporting it again.', true);
  });
  const media = await probeMedia(videoPath, { signal: context.signal });
  if (!media.video || media.durationS <= 0) {
    throw new JobError('render_failed', 'The backend returned a file that is not a playable video.', true);
  }
  await extractPoster(context, videoPath, posterPath, Math.min(media.durationS / 2, 1));
  await context.storage.moveIn(output.videoKey, videoPath);
  await context.storage.moveIn(output.posterKey, posterPath);
  const durationS = Math.round(media.durationS * 1000) / 1000;
  return { format: output.format, videoKey: output.videoKey, posterKey: output.posterKey, width: media.video.width, height: media.video.height, durationS, sizeBytes: media.sizeBytes };
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
    const scratch = await mkdtemp(path.join(tmpdir(), `i2v-${job.id}-`));
    const outputs: StoredOutput[] = [];
    try {
      const toStore = outputsToStore(job);
      for (const [n, output] of toStore.entries()) {
        outputs.push(await storeOutput(context, scratch, output, n));
        await context.progress((n + 1) / toStore.length);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const [main] = outputs as [StoredOutput];
    const draft = job.checkpoint.draft;
    await context.record.update({
      result: {
        videoKey: main.videoKey,
        posterKey: main.posterKey,
        width: main.width,
        height: main.height,
        durationS: main.durationS,
        sizeBytes: main.sizeBytes,
        outputs,
        timelineSummary: draft ? timelineSummary(draft) : undefined,
        creditsUsed: job.checkpoint.creditsUsed,
      },
    });
  },
};
