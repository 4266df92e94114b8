import path from 'node:path';
import type { Logger } from '../../shared/infra/logger.ts';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import type { Draft } from '../../shared/jobs/draft.ts';
import { DraftRenderError, type ResolveLocalPath } from './ffmpeg-args.ts';
import { renderDraft, type RenderDraftOptions } from './renderer.ts';
import type { RenderStore } from '../store/engine-store.ts';
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

export interface RenderRunnerDeps {
  renders: RenderStore;
  rendersDir: string;
  uploadsDir(sessionId: string): string;
  logger: Logger;
  /** replaced only by benchmark mode (benchmark-clip.ts) */
  renderFile: RenderFile;
}

/** The draft's sources as files of the shared ENGINE_DIR, wherever this engine mounts it. */
function sourceResolver(job: RenderJob, uploadsDir: string): ResolveLocalPath {
  return (src) => {
    const name = job.sources[src];
    if (!name) throw new DraftRenderError(`segment src ${src} is not a file of session ${job.sessionId}`);
    return path.join(uploadsDir, name);
  };
}

/**
 * Renders one accepted render into its output file, with its progress in the
 * store as it goes (so a poll on any engine sees it), and ends it there.
 * `abort` stops ffmpeg; so does finding the render ended by someone else (a
 * cancel on another engine) when progress is written. Resolves 'aborted' when
 * it stopped without ending the render.
 */
export async function runRender(job: RenderJob, deps: RenderRunnerDeps, abort: AbortController): Promise<'ended' | 'aborted'> {
  const log = deps.logger.child({ renderId: job.id, sessionId: job.sessionId });
  const outPath = path.join(deps.rendersDir, job.fileName);
  if (!(await deps.renders.start(job.id, INITIAL_PROGRESS))) return 'aborted';
  const progress = new ProgressWriter((value) => deps.renders.progress(job.id, value), () => abort.abort(CANCELED));
  const started = Date.now();
  try {
    const media = await deps.renderFile(job.draft, {
      resolveLocalPath: sourceResolver(job, deps.uploadsDir(job.sessionId)),
      outPath,
      signal: abort.signal,
      onProgress: (fraction) => progress.report(INITIAL_PROGRESS + Math.round(fraction * RENDER_SPAN)),
    });
    await progress.settled();
    if (abort.signal.aborted) return 'aborted';
    await deps.renders.finish(job.id, { status: 'completed', durationS: media.durationS, sizeBytes: media.sizeBytes });
    log.info({ ms: Date.now() - started, durationS: media.durationS, sizeBytes: media.sizeBytes }, 'render completed');
  } catch (error) {
    await progress.settled();
    if (abort.signal.aborted) {
      log.info({ reason: String(abort.signal.reason) }, 'render stopped');
      return 'aborted';
    }
    await deps.renders.finish(job.id, { status: 'failed', error: `render failed: ${(error as Error).message}` });
    log.error({ err: error }, 'render failed');
  }
  return 'ended';
}

/** Writes progress as it rises, one write at a time (the latest value wins); told when the render turns out to have ended. */
class ProgressWriter {
  private last = 0;
  private next?: number;
  private writing?: Promise<void>;

  constructor(
    private readonly write: (progress: number) => Promise<boolean>,
    private readonly onEnded: () => void,
  ) {}

  report(progress: number): void {
    if (progress <= this.last) return;
    this.last = progress;
    this.next = progress;
    this.writing ??= this.flush().finally(() => (this.writing = undefined));
  }

  async settled(): Promise<void> {
    await this.writing;
  }

  private async flush(): Promise<void> {
    while (this.next !== undefined) {
      const value = this.next;
      this.next = undefined;
      const running = await this.write(value).catch(() => true);
      if (!running) this.onEnded();
    }
  }
}
