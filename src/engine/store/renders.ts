import type { Draft } from '../../shared/jobs/draft.ts';

export type RenderStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface RenderJob {
  id: string;
  sessionId: string;
  userId: string;
  draft: Draft;
  status: RenderStatus;
  /** 0–100 */
  progress: number;
  /** storage name of the MP4 under the renders directory, once completed */
  outputName?: string;
  outputPath?: string;
  durationS?: number;
  sizeBytes?: number;
  error?: string;
  /** ms; a finished render expires ENGINE_TTL_S after its last poll */
  lastUsedAt: number;
  /** aborts the render's ffmpeg */
  abort: AbortController;
}

export class RenderStore {
  private readonly renders = new Map<string, RenderJob>();

  /** Render ids are chosen by clients and never reused: check `has` first. */
  add(job: RenderJob): void {
    if (this.renders.has(job.id)) throw new Error(`render id ${job.id} already exists`);
    this.renders.set(job.id, job);
  }

  has(id: string): boolean {
    return this.renders.has(id);
  }

  /** A render only exists for its owner; finding it counts as a use. */
  find(id: string, userId: string): RenderJob | undefined {
    const job = this.renders.get(id);
    if (job?.userId !== userId) return undefined;
    job.lastUsedAt = Date.now();
    return job;
  }

  delete(id: string): void {
    this.renders.delete(id);
  }

  all(): IterableIterator<RenderJob> {
    return this.renders.values();
  }
}
