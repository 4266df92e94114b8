import path from 'node:path';
import type { Logger } from '../../shared/infra/logger.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import type { Draft } from '../../shared/jobs/draft.ts';
import type { ResolveLocalPath } from './ffmpeg-args.ts';
import { renderDraft, type RenderDraftOptions } from './renderer.ts';
import { newStorageName } from '../store/ids.ts';
import type { RenderJob } from '../store/renders.ts';

/** Where the first progress report of a render starts, as upstream's start reply shows. */
export const INITIAL_PROGRESS = 5;
/** ffmpeg's share of the bar; the rest is the final probe */
const RENDER_SPAN = 90;

export const CANCELED = 'canceled';

/** Writes a draft's MP4 to `outPath` and says what it wrote. */
export type RenderFile = (draft: Draft, options: RenderDraftOptions) => Promise<{ durationS: number; sizeBytes: number }>;

/** The real one: ffmpeg, then ffprobe on what it wrote. */
export const renderWithFfmpeg: RenderFile = async (draft, options) => {
  await renderDraft(draft, options);
  const media = await probeMedia(options.outPath);
  return { durationS: media.durationS, sizeBytes: media.sizeBytes };
};

/**
 * Runs renders in the background, `concurrency` at a time (x264 already uses
 * every core; more waiting renders stay `pending`), and keeps each job's
 * status and progress current.
 */
export class RenderRunner {
  private readonly waiting: { job: RenderJob; resolve: ResolveLocalPath }[] = [];
  private running = 0;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly rendersDir: string,
    private readonly concurrency: number,
    private readonly logger: Logger,
    /** replaced only by benchmark mode (benchmark-clip.ts) */
    private readonly renderFile: RenderFile = renderWithFfmpeg,
    /** told when a render has ended (its output now takes disk space) */
    private readonly onSettled: () => void = () => undefined,
  ) {}

  enqueue(job: RenderJob, resolve: ResolveLocalPath): void {
    this.waiting.push({ job, resolve });
    this.pump();
  }

  /** Stops a render that has not ended; false when it already had. */
  cancel(job: RenderJob): boolean {
    if (job.status === 'completed' || job.status === 'failed') return false;
    const queued = this.waiting.findIndex((entry) => entry.job === job);
    if (queued >= 0) this.waiting.splice(queued, 1);
    job.status = 'failed';
    job.error = CANCELED;
    job.abort.abort();
    return true;
  }

  /** Cancels everything and waits until no ffmpeg is left running. */
  async close(jobs: Iterable<RenderJob>): Promise<void> {
    for (const job of jobs) this.cancel(job);
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const next = this.waiting.shift();
      if (!next) return;
      this.running++;
      void this.run(next.job, next.resolve).finally(() => {
        this.running--;
        this.onSettled();
        this.pump();
        if (this.running === 0) {
          for (const resolve of this.idle) resolve();
          this.idle.clear();
        }
      });
    }
  }

  private async run(job: RenderJob, resolveLocalPath: ResolveLocalPath): Promise<void> {
    const log = this.logger.child({ renderId: job.id, sessionId: job.sessionId });
    const outputName = newStorageName('mp4');
    const outPath = path.join(this.rendersDir, outputName);
    job.status = 'processing';
    const started = Date.now();
    try {
      const media = await this.renderFile(job.draft, {
        resolveLocalPath,
        outPath,
        signal: job.abort.signal,
        onProgress: (fraction) => {
          job.progress = Math.max(job.progress, INITIAL_PROGRESS + Math.round(fraction * RENDER_SPAN));
        },
      });
      if (job.abort.signal.aborted) return;
      Object.assign(job, { status: 'completed', progress: 100, outputName, outputPath: outPath, durationS: media.durationS, sizeBytes: media.sizeBytes });
      log.info({ ms: Date.now() - started, durationS: media.durationS, sizeBytes: media.sizeBytes }, 'render completed');
    } catch (error) {
      if (job.abort.signal.aborted) {
        log.info('render canceled');
        return;
      }
      job.status = 'failed';
      job.error = `render failed: ${(error as Error).message}`;
      log.error({ err: error }, 'render failed');
    }
  }
}
