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
