/** The typed client of the render backend (docs: shared/upstream-protocol.md). */
export { attributionHeaders, skillForPreset, type SkillAttribution, type SkillPlatform } from './attribution.ts';
export {
  BackendClient,
  DEFAULT_BACKEND_TIMEOUTS,
  type BackendClientOptions,
  type BackendTimeouts,
  type CallOptions,
  type DownloadedFile,
  type DownloadOptions,
  type RenderRequest,
  type RunSseOptions,
  type UploadSource,
} from './client.ts';
export { BACKEND_ENDPOINTS, type BackendEndpoint } from './endpoints.ts';
export type { MediaKind } from '../media/media-formats.ts';
export { parseRenderStatus, type RenderState, type RenderStatus } from './render-status.ts';
export type { AnonymousToken, CreditsBalance, SessionInfo, SessionState, UploadedFile } from './replies.ts';
export { collectReply, ReplyAccumulator, type CollectedReply, type ToolCall, type ToolResult } from './reply-collector.ts';
export { replyError, retryAfterSeconds } from './reply-error.ts';
export { eventsFromFrame, type SseEvent } from './sse-events.ts';
export { BackendError, type TransportCode } from '../errors/backend-error.ts';
