import type { Draft } from '../../shared/jobs/draft.ts';

export type RenderStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface RenderJob {
  id: string;
  sessionId: string;
  userId: string;
  draft: Draft;
  /** the storage name of each segment `src` of the draft: files under the session's uploads folder */
  sources: Record<string, string>;
  status: RenderStatus;
  /** 0–100 */
  progress: number;
  /** storage name of its MP4 under the renders directory, chosen when accepted; served once completed */
  fileName: string;
  /** times an engine started rendering it: 2 when one was taken over from an engine that died */
  runs?: number;
  durationS?: number;
  sizeBytes?: number;
  error?: string;
  /** ms; a finished render expires ENGINE_TTL_S after its last poll */
  lastUsedAt: number;
}

export const isFinished = (render: Pick<RenderJob, 'status'>) => render.status === 'completed' || render.status === 'failed';
