/** Stable names of the backend's endpoints, carried in `BackendError.detail.endpoint`. */
export const BACKEND_ENDPOINTS = [
  'anonymous_token',
  'create_session',
  'upload',
  'run_sse',
  'state',
  'credits',
  'render_start',
  'render_poll',
  'render_cancel',
  'download',
] as const;

export type BackendEndpoint = (typeof BACKEND_ENDPOINTS)[number];
