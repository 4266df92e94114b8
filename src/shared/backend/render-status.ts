import type { BackendEndpoint } from './endpoints.ts';
import { asRecord, pick, pickNumber, pickString, type JsonRecord } from './json-reading.ts';
import { badReply } from './reply-error.ts';

export type RenderState = 'pending' | 'processing' | 'completed' | 'failed';

/** One file of a render that made several (renditions): the backend's `outputs` list, first the main one. */
export interface RenderedOutput {
  url: string;
  format?: string;
  width?: number;
  height?: number;
}

export interface RenderStatus {
  id: string;
  status: RenderState;
  /** 0 to 100 */
  progress: number;
  outputUrl?: string;
  durationS?: number;
  sizeBytes?: number;
  /** every file of the render, when the backend lists them (one per rendition asked for) */
  outputs?: RenderedOutput[];
  error?: string;
}

/** The `outputs` list of a reply: `[{url, format?, width?, height?}]` in `data` or at the top; entries without a URL are left out. */
function renderedOutputs(root: JsonRecord, top: JsonRecord): RenderedOutput[] | undefined {
  const list = pick(root, 'outputs') ?? pick(top, 'outputs');
  if (!Array.isArray(list)) return undefined;
  const outputs: RenderedOutput[] = [];
  for (const entry of list) {
    const item = asRecord(entry);
    const url = pickString(item, 'url', 'outputUrl', 'output_url');
    if (!url) continue;
    const [format, width, height] = [pickString(item, 'format'), pickNumber(item, 'width'), pickNumber(item, 'height')];
    outputs.push({ url, ...(format && { format }), ...(width !== undefined && { width }), ...(height !== undefined && { height }) });
  }
  return outputs;
}

const STATE_ALIASES: Record<string, RenderState> = {
  pending: 'pending',
  queued: 'pending',
  waiting: 'pending',
  submitted: 'pending',
  processing: 'processing',
  running: 'processing',
  rendering: 'processing',
  in_progress: 'processing',
  completed: 'completed',
  complete: 'completed',
  succeeded: 'completed',
  success: 'completed',
  done: 'completed',
  failed: 'failed',
  error: 'failed',
  canceled: 'failed',
  cancelled: 'failed',
};
// a Map, so that a status such as "constructor" cannot hit Object.prototype
const STATE_NAMES = new Map(Object.entries(STATE_ALIASES));

function errorText(root: JsonRecord): string | undefined {
  const value = pick(root, 'error', 'error_message', 'errorMessage');
  if (typeof value === 'string') return value;
  return pickString(asRecord(value), 'message') ?? (value === undefined ? undefined : JSON.stringify(value));
}

/**
 * Normalizes the render proxy's replies (start and poll). Three shapes are
 * published: `{"success":true,"data":{id,status,progress,outputUrl}}`,
 * `{taskId,status,progress,output:{url,duration,size}}`, and a top-level
 * `status` with `output.url`; a `{"code":0,"data":…}` envelope is read too.
 * `requestedId` stands in when the reply does not name the render.
 * `{"success":false}` never gets here: replyError has turned it into an error.
 */
export function parseRenderStatus(endpoint: BackendEndpoint, body: unknown, requestedId: string): RenderStatus {
  const top = asRecord(body);
  if (!top) throw badReply(endpoint, 'reply is not a JSON object');
  const root = asRecord(top.data) ?? top;

  const rawStatus = pickString(root, 'status', 'state');
  // a start reply that names no status has only queued the render
  const status =
    rawStatus === undefined ? (endpoint === 'render_start' ? 'pending' : undefined) : STATE_NAMES.get(rawStatus.toLowerCase());
  if (!status) throw badReply(endpoint, rawStatus ? `unknown render status "${rawStatus}"` : 'reply has no render status');

  const rawOutput = pick(root, 'output');
  const output = asRecord(rawOutput);
  const outputUrl =
    pickString(root, 'outputUrl', 'output_url', 'url', 'downloadUrl', 'download_url') ??
    (typeof rawOutput === 'string' ? rawOutput : pickString(output, 'url', 'outputUrl', 'output_url'));
  const progress = pickNumber(root, 'progress') ?? (status === 'completed' ? 100 : 0);
  const durationS = pickNumber(output, 'duration', 'duration_s') ?? pickNumber(root, 'duration', 'durationS');
  const sizeBytes = pickNumber(output, 'size', 'size_bytes', 'sizeBytes') ?? pickNumber(root, 'size', 'sizeBytes');
  const error = status === 'failed' ? (errorText(root) ?? pickString(root, 'message')) : undefined;

  return {
    id: pickString(root, 'id', 'taskId', 'task_id', 'renderId', 'render_id') ?? requestedId,
    status,
    progress: Math.min(100, Math.max(0, progress)),
    outputUrl,
    durationS,
    sizeBytes,
    outputs: status === 'completed' ? renderedOutputs(root, top) : undefined,
    error,
  };
}
