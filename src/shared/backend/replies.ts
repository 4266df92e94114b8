import type { BackendEndpoint } from './endpoints.ts';
import { asRecord, parseJson, pick, pickNumber, pickString, type JsonRecord } from './json-reading.ts';
import { jsonTextAt } from './json-span.ts';
import { mediaKindOf, type MediaKind } from '../media/media-formats.ts';
import { badReply } from './reply-error.ts';

/**
 * Normalizers of the backend's JSON replies, one per endpoint. Each takes the
 * parsed body of a reply already known not to be an error (see replyError)
 * and returns a typed value, or throws BackendError('bad_reply').
 */

export interface AnonymousToken {
  token: string;
  userId?: string;
  /** ISO time */
  expiresAt?: string;
  credits?: number;
}

export interface SessionInfo {
  sessionId: string;
  taskId?: string;
  userId?: string;
}

export interface UploadedFile {
  filename: string;
  fileType: MediaKind;
  cdnUrl: string;
  durationS?: number;
  width?: number;
  height?: number;
  fps?: number;
  hash?: string;
}

export interface SessionState {
  sessionId: string;
  taskId?: string;
  state: {
    draft: unknown | null;
    /** the draft exactly as the backend wrote it, to be sent back byte for byte (a render); undefined when there is none */
    draftJson?: string;
    videoInfos: unknown[];
    generatedMedia: unknown;
    canvasConfig: unknown;
  };
}

export interface CreditsBalance {
  available: number;
  frozen: number;
  total: number;
}

/** The `data` of a `{"code":0,"data":…}` envelope, or the body itself when it has none. */
export function envelopeData(body: unknown): unknown {
  const record = asRecord(body);
  if (record && 'data' in record && record.data !== null && typeof record.data === 'object') return record.data;
  return body;
}

function dataRecord(endpoint: BackendEndpoint, body: unknown): JsonRecord {
  const data = asRecord(envelopeData(body));
  if (!data) throw badReply(endpoint, 'reply is not a JSON object');
  return data;
}


/** An ISO time from an ISO string or epoch seconds/milliseconds. */
function isoTime(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    return new Date(value < 1e12 ? value * 1000 : value).toISOString();
  }
  return undefined;
}

export function parseAnonymousToken(body: unknown): AnonymousToken {
  const data = dataRecord('anonymous_token', body);
  const token = pickString(data, 'token', 'access_token', 'accessToken');
  if (!token) throw badReply('anonymous_token', 'reply has no token');
  return {
    token,
    userId: pickString(data, 'user_id', 'userId'),
    expiresAt: isoTime(pick(data, 'expires_at', 'expiresAt')),
    credits: pickNumber(data, 'credits'),
  };
}

export function parseSession(body: unknown): SessionInfo {
  const data = dataRecord('create_session', body);
  const sessionId = pickString(data, 'session_id', 'sessionId');
  if (!sessionId) throw badReply('create_session', 'reply has no session_id');
  return {
    sessionId,
    taskId: pickString(data, 'task_id', 'taskId'),
    userId: pickString(data, 'user_id', 'userId'),
  };
}

function parseUploadedFile(value: unknown, index: number): UploadedFile {
  const file = asRecord(value);
  const cdnUrl = pickString(file, 'cdn_url', 'cdnUrl', 'url');
  if (!file || !cdnUrl) throw badReply('upload', `file ${index} has no cdn_url`);
  const filename = pickString(file, 'filename', 'file_name', 'fileName', 'name') ?? cdnUrl.split('/').pop() ?? '';
  const fileType =
    mediaKindOf(pickString(file, 'file_type', 'fileType', 'type')) ??
    mediaKindOf(pickString(file, 'content_type', 'contentType', 'mime_type')) ??
    mediaKindOf(filename);
  if (!fileType) throw badReply('upload', `file ${index} has no known file_type`);
  return {
    filename,
    fileType,
    cdnUrl,
    durationS: pickNumber(file, 'duration', 'duration_s'),
    width: pickNumber(file, 'width'),
    height: pickNumber(file, 'height'),
    fps: pickNumber(file, 'fps'),
    hash: pickString(file, 'hash'),
  };
}

export function parseUploadedFiles(body: unknown): UploadedFile[] {
  const data = envelopeData(body);
  const files = Array.isArray(data) ? data : pick(asRecord(data), 'files', 'uploaded_files');
  if (!Array.isArray(files)) throw badReply('upload', 'reply has no files list');
  return files.map(parseUploadedFile);
}

/** Some servers store the draft serialized; a JSON string is read as the draft it holds. */
function draftOf(value: unknown): unknown | null {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * The text of the draft in the reply `text`: its bytes in the reply, or the
 * string a server that stores it serialized sent. Undefined when they do not
 * read as the parsed `draft` (a key given twice, say).
 */
function draftJsonOf(text: string, body: unknown, draft: unknown): string | undefined {
  if (draft === null || draft === undefined) return undefined;
  const path = asRecord(asRecord(body)?.data) ? ['data', 'state', 'draft'] : ['state', 'draft'];
  const found = jsonTextAt(text, path);
  const raw = found?.startsWith('"') ? (parseJson(found) as unknown) : found;
  if (typeof raw !== 'string') return undefined;
  return JSON.stringify(parseJson(raw)) === JSON.stringify(draft) ? raw : undefined;
}

/**
 * `requestedSessionId` stands in when the reply does not repeat the session
 * id; `text` is the reply as it came, for the draft's own bytes.
 */
export function parseSessionState(body: unknown, requestedSessionId: string, text?: string): SessionState {
  const data = dataRecord('state', body);
  const state = asRecord(pick(data, 'state')) ?? {};
  const videoInfos = pick(state, 'video_infos', 'videoInfos');
  const draft = draftOf(pick(state, 'draft'));
  return {
    sessionId: pickString(data, 'session_id', 'sessionId') ?? requestedSessionId,
    taskId: pickString(data, 'task_id', 'taskId'),
    state: {
      draft,
      ...(text === undefined ? {} : { draftJson: draftJsonOf(text, body, draft) }),
      videoInfos: Array.isArray(videoInfos) ? videoInfos : [],
      generatedMedia: pick(state, 'generated_media', 'generatedMedia') ?? null,
      canvasConfig: pick(state, 'canvas_config', 'canvasConfig') ?? null,
    },
  };
}

export function parseCreditsBalance(body: unknown): CreditsBalance {
  const data = dataRecord('credits', body);
  const available = pickNumber(data, 'available', 'available_credits', 'availableCredits');
  if (available === undefined) throw badReply('credits', 'reply has no available credits');
  const frozen = pickNumber(data, 'frozen', 'frozen_credits', 'frozenCredits') ?? 0;
  return { available, frozen, total: pickNumber(data, 'total', 'total_credits', 'totalCredits') ?? available + frozen };
}
