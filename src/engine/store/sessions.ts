import type { MediaKind } from '../../shared/media/media-formats.ts';
import type { Draft } from '../../shared/jobs/draft.ts';
import type { AgentRequest, DraftMedia, DraftPicture } from '../../shared/agent/index.ts';

export type FileType = MediaKind;

export interface StoredFile {
  /** the engine's storage name: also the last segment of its cdn_url */
  name: string;
  /** the name the client gave; shown, never used as a path */
  filename: string;
  fileType: FileType;
  path: string;
  width: number;
  height: number;
  durationS: number;
  fps: number;
  hash: string;
  sizeBytes: number;
}

/** A timeline the session's agent made: the draft, the request it was built from and the media it shows. */
export interface Timeline {
  draft: Draft;
  request: AgentRequest;
  pictures: DraftPicture[];
  music?: DraftMedia;
  logo?: DraftMedia;
}

export interface Session {
  id: string;
  taskId: string;
  userId: string;
  language: string;
  /** every upload, in order */
  files: StoredFile[];
  /** the files of the most recent upload call: what the next instruction works on */
  latestUpload: StoredFile[];
  /**
   * files were uploaded since the draft was made: the next instruction starts a
   * new timeline from them (a batch's next product) instead of editing the draft
   */
  uploadedSinceDraft: boolean;
  /** the current timeline: its draft is the state's, a follow-up instruction edits it */
  timeline: Timeline | null;
  /** every timeline the session has made, oldest first: a run's `state_delta` may make any of them current again */
  timelines: Timeline[];
  /** instructions this session has been charged for */
  instructions: number;
  /** ms; the session expires ENGINE_TTL_S after its last use */
  lastUsedAt: number;
  /** bumped by every stored change: a change is stored only onto the version it was made from (compare-and-set) */
  version: number;
}
