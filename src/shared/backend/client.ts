import { openAsBlob } from 'node:fs';
import { Agent, FormData, type Dispatcher } from 'undici';
import { recordBackendCall, recordBackendStream } from '../infra/metrics/backend-calls.ts';
import { isLocalFileError, NetworkReader, NetworkReadError } from '../net/network-reader.ts';
import { attributionHeaders, type SkillAttribution } from './attribution.ts';
import { BackendUrls } from './backend-urls.ts';
import type { BackendEndpoint } from './endpoints.ts';
import { throwIfGatewayFailure, withFailover } from './failover.ts';
import { asRecord, parseJson, pickString } from './json-reading.ts';
import { mimeTypeFor } from '../media/media-formats.ts';
import { parseRenderStatus, type RenderStatus } from './render-status.ts';
import {
  envelopeData,
  parseAnonymousToken,
  parseCreditsBalance,
  parseSession,
  parseSessionState,
  parseUploadedFiles,
  type AnonymousToken,
  type CreditsBalance,
  type SessionInfo,
  type SessionState,
  type UploadedFile,
} from './replies.ts';
import { badReply } from './reply-error.ts';
import type { SseEvent } from './sse-events.ts';
import { sseEventsFromChunks } from './sse-stream.ts';
import { callJson, callText, openCall, readText, throwIfError, type CallSpec, type OpenReply } from './transport.ts';

export interface BackendTimeouts {
  /** TCP and TLS connect; applies to the client's own Agent only */
  connectMs: number;
  /** a JSON call or a download fails after this long without bytes */
  idleMs: number;
  /** a JSON call, whole */
  callMs: number;
  /** an upload, whole */
  uploadMs: number;
  /** `/run_sse` fails after this long without bytes (heartbeats count) */
  sseIdleMs: number;
  /** `/run_sse`, whole */
  sseTotalMs: number;
  /** a download, whole */
  downloadMs: number;
}

export const DEFAULT_BACKEND_TIMEOUTS: BackendTimeouts = {
  connectMs: 10_000,
  idleMs: 60_000,
  callMs: 120_000,
  uploadMs: 15 * 60_000,
  sseIdleMs: 120_000,
  sseTotalMs: 15 * 60_000,
  downloadMs: 15 * 60_000,
};

export interface BackendClientOptions {
  /** one base URL, several comma-separated, or URLs whose health several clients share */
  baseUrl: string | BackendUrls;
  skill: SkillAttribution;
  token?: string;
  /** an undici Agent shared by several clients; without one the client makes (and closes) its own */
  dispatcher?: Dispatcher;
  timeouts?: Partial<BackendTimeouts>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface RunSseOptions extends CallOptions {
  /** asks for `partial` text chunks as they are generated */
  streaming?: boolean;
  /** ADK's `state_delta`: session state set before the agent runs, e.g. `{ draft }` to edit that timeline */
  stateDelta?: Record<string, unknown>;
}

export interface DownloadOptions extends CallOptions {
  maxBytes: number;
}

export interface UploadSource {
  path: string;
  filename: string;
  /** defaults to the type the filename's extension names */
  contentType?: string;
}

export interface RenderRequest {
  /** `render_<…>`; the backend refuses a duplicate id */
  id: string;
  sessionId: string;
  draft: unknown;
  /** the draft's JSON text, sent as it is instead of `draft` written out again */
  draftJson?: string;
  output?: Record<string, unknown>;
}

export interface DownloadedFile {
  bytes: number;
  contentType?: string;
}

const MAX_DOWNLOAD_HOPS = 5;
const KEEP_ALIVE_MS = 30_000;

/**
 * A typed client for one backend and one attribution. Every call takes an
 * AbortSignal; every failure is a BackendError. A backend with several base
 * URLs has its calls spread over them and moved on from one that does not
 * answer (backend-urls.ts, failover.ts). The token is fixed per client:
 * `withToken` makes a sibling sharing the same connection pool and URLs.
 */
export class BackendClient {
  readonly urls: BackendUrls;
  readonly skill: SkillAttribution;
  readonly timeouts: BackendTimeouts;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly reader: NetworkReader;
  // private (#) so that inspecting or logging a client never shows it
  readonly #token: string | undefined;

  constructor(options: BackendClientOptions) {
    this.urls = typeof options.baseUrl === 'string' ? new BackendUrls(options.baseUrl) : options.baseUrl;
    this.skill = options.skill;
    this.timeouts = { ...DEFAULT_BACKEND_TIMEOUTS, ...options.timeouts };
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ?? new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connect: { timeout: this.timeouts.connectMs } });
    this.reader = new NetworkReader({ kind: 'configured-backend', dispatcher: this.dispatcher });
    this.#token = options.token;
  }

  get hasToken(): boolean {
    return Boolean(this.#token);
  }

  /** A client like this one, with another token, on the same connections. */
  withToken(token: string): BackendClient {
    return new BackendClient({ baseUrl: this.urls, skill: this.skill, token, dispatcher: this.dispatcher, timeouts: this.timeouts });
  }

  /** Closes the connection pool when this client made it (siblings from `withToken` share it). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  async anonymousToken(clientId: string, options: CallOptions = {}): Promise<AnonymousToken> {
    // no Authorization here: the token being replaced may be the rejected one
    const request = { auth: false, headers: { 'x-client-id': clientId } };
    return parseAnonymousToken(await this.json('anonymous_token', 'POST', 'api/auth/anonymous-token', options, request));
  }

  async createSession(params: { language?: string } = {}, options: CallOptions = {}): Promise<SessionInfo> {
    const body = { task_name: 'project', language: params.language ?? 'en' };
    return parseSession(await this.json('create_session', 'POST', 'api/tasks/me/with-session/nemo_agent', options, { json: body }));
  }

  /** Uploads files as repeated `files` parts, streamed from disk. */
  async uploadFiles(sessionId: string, files: readonly UploadSource[], options: CallOptions = {}): Promise<UploadedFile[]> {
    const form = new FormData();
    for (const file of files) {
      const blob = await openAsBlob(file.path, { type: file.contentType ?? mimeTypeFor(file.filename) });
      form.append('files', blob, file.filename);
    }
    const reply = await this.json('upload', 'POST', uploadPath(sessionId), options, { form, totalMs: this.timeouts.uploadMs });
    return parseUploadedFiles(reply);
  }

  async uploadUrls(sessionId: string, urls: readonly string[], options: CallOptions = {}): Promise<UploadedFile[]> {
    const body = { urls, source_type: 'url' };
    return parseUploadedFiles(await this.json('upload', 'POST', uploadPath(sessionId), options, { json: body }));
  }

  /**
   * Sends one message and yields the stream's events. The request goes out
   * when iteration starts (each send is charged); breaking out of the loop
   * closes the stream.
   */
  runSse(sessionId: string, text: string, options: RunSseOptions = {}): AsyncGenerator<SseEvent> {
    return recordBackendStream('run_sse', this.streamSse(sessionId, text, options));
  }

  private async *streamSse(sessionId: string, text: string, options: RunSseOptions): AsyncGenerator<SseEvent> {
    const body = {
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: sessionId,
      new_message: { parts: [{ text }] },
      ...(options.streaming ? { streaming: true } : {}),
      ...(options.stateDelta ? { state_delta: options.stateDelta } : {}),
    };
    const request: RequestParts = { json: body, headers: { accept: 'text/event-stream' }, totalMs: this.timeouts.sseTotalMs, idleMs: this.timeouts.sseIdleMs };
    // sent at most once unless it cannot have reached the backend: each send is charged
    const reply = await withFailover(this.urls, { idempotent: false }, async (base) => {
      const opened = await openCall(this.reader, this.spec(base, 'run_sse', 'POST', 'run_sse', options, request));
      const contentType = opened.network.header('content-type') ?? '';
      if (opened.statusCode < 200 || opened.statusCode >= 300 || contentType.includes('json')) {
        const replyText = await readText(opened, 'run_sse');
        throwIfError(opened, 'run_sse', replyText);
        throw badReply('run_sse', `expected an event stream, got ${contentType || 'no content type'}`, opened.statusCode);
      }
      return opened;
    });
    try {
      yield* sseEventsFromChunks(reply.network.body);
    } catch (error) {
      throw reply.failure(error, 'stream');
    } finally {
      reply.network.discard();
    }
  }

  async getState(sessionId: string, options: CallOptions = {}): Promise<SessionState> {
    const path = `api/state/nemo_agent/me/${encodeURIComponent(sessionId)}/latest`;
    const text = await recordBackendCall('state', withFailover(this.urls, { idempotent: true }, (base) => callText(this.reader, this.spec(base, 'state', 'GET', path, options))));
    const body = parseJson(text);
    if (body === undefined) throw badReply('state', 'reply is not JSON');
    return parseSessionState(body, sessionId, text);
  }

  async creditsBalance(options: CallOptions = {}): Promise<CreditsBalance> {
    return parseCreditsBalance(await this.json('credits', 'GET', 'api/credits/balance/simple', options));
  }

  async startRender(request: RenderRequest, options: CallOptions = {}): Promise<RenderStatus> {
    const { id, sessionId, output } = request;
    // the draft goes as its own bytes when it has them (the backend's, as its state sent it)
    const draft = request.draftJson ?? JSON.stringify(request.draft);
    const body = `{${JSON.stringify({ id, sessionId }).slice(1, -1)},"draft":${draft}${output ? `,"output":${JSON.stringify(output)}` : ''}}`;
    const reply = await this.json('render_start', 'POST', 'api/render/proxy/lambda', options, { jsonText: body });
    return parseRenderStatus('render_start', reply, request.id);
  }

  async getRender(id: string, options: CallOptions = {}): Promise<RenderStatus> {
    const reply = await this.json('render_poll', 'GET', `api/render/proxy/lambda/${encodeURIComponent(id)}`, options);
    return parseRenderStatus('render_poll', reply, id);
  }

  async cancelRender(id: string, options: CallOptions = {}): Promise<void> {
    await this.json('render_cancel', 'POST', `api/render/proxy/lambda/${encodeURIComponent(id)}/cancel`, options);
  }

  /** The backend's fallback download of a finished render. */
  async downloadRender(id: string, destPath: string, options: DownloadOptions): Promise<DownloadedFile> {
    return this.downloadToFile(new URL(`api/render/proxy/${encodeURIComponent(id)}/download`, this.urls.primary).href, destPath, options);
  }

  /**
   * Streams a file (a render's output URL) to `destPath`. Redirects are
   * followed, and a JSON reply naming a URL is followed to it. Credentials go
   * only to the backend's own origins, never to a CDN. A URL on one of the
   * backend's base URLs that does not answer is read from another (engines
   * sharing one state serve each other's files).
   */
  downloadToFile(url: string, destPath: string, options: DownloadOptions): Promise<DownloadedFile> {
    return recordBackendCall('download', this.fetchToFile(url, destPath, options));
  }

  private async fetchToFile(url: string, destPath: string, options: DownloadOptions): Promise<DownloadedFile> {
    let target = new URL(url, this.urls.primary);
    for (let hop = 0; hop <= MAX_DOWNLOAD_HOPS; hop++) {
      let reply: OpenReply;
      ({ reply, target } = await this.openDownload(target, options));
      const location = reply.network.header('location');
      if (reply.statusCode >= 300 && reply.statusCode < 400 && location) {
        reply.network.discard();
        target = new URL(location, target);
        continue;
      }
      const contentType = reply.network.header('content-type');
      if (reply.statusCode < 200 || reply.statusCode >= 300 || contentType?.includes('json')) {
        target = new URL(await linkFromReply(reply), target);
        continue;
      }
      try {
        const bytes = await reply.network.saveTo(destPath, { maxBytes: options.maxBytes, viaPartFile: true });
        return { bytes, contentType };
      } catch (error) {
        if (isLocalFileError(error)) throw error;
        if (error instanceof NetworkReadError && error.kind === 'too_large') {
          const { declared, limit } = error.detail;
          if (declared === undefined) throw badReply('download', `the file is larger than ${limit} bytes`);
          throw badReply('download', `the file is ${declared} bytes; the limit is ${limit}`, reply.statusCode);
        }
        throw reply.failure(error, 'network');
      }
    }
    throw badReply('download', `more than ${MAX_DOWNLOAD_HOPS} redirects`);
  }

  /** Opens one hop of a download; a URL on a listed base URL that does not answer is moved to another. */
  private async openDownload(target: URL, options: DownloadOptions): Promise<{ reply: OpenReply; target: URL }> {
    const open = async (url: URL, headers: Record<string, string>) => {
      const spec = { endpoint: 'download', method: 'GET', url, headers, signal: options.signal, totalMs: this.timeouts.downloadMs, idleMs: this.timeouts.idleMs } as const;
      return { reply: await openCall(this.reader, spec), target: url };
    };
    const base = this.urls.baseOf(target);
    if (!base) return open(target, {});
    return withFailover(this.urls, { idempotent: true, preferred: base }, async (other) => {
      const opened = await open(BackendUrls.moved(target, base, other), this.headers());
      await throwIfGatewayFailure(opened.reply, 'download');
      return opened;
    });
  }

  private headers(): Record<string, string> {
    return { ...attributionHeaders(this.skill), ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}) };
  }

  private spec(base: URL, endpoint: BackendEndpoint, method: CallSpec['method'], path: string, options: CallOptions, request: RequestParts = {}): CallSpec {
    const json = request.jsonText ?? (request.json === undefined ? undefined : JSON.stringify(request.json));
    const contentType: Record<string, string> = json === undefined ? {} : { 'content-type': 'application/json' };
    const credentials = request.auth === false ? attributionHeaders(this.skill) : this.headers();
    return {
      endpoint,
      method,
      url: new URL(path, base),
      headers: { ...credentials, accept: 'application/json', ...contentType, ...request.headers },
      body: request.form ?? json,
      signal: options.signal,
      totalMs: request.totalMs ?? this.timeouts.callMs,
      idleMs: request.idleMs ?? this.timeouts.idleMs,
    };
  }

  private json(endpoint: BackendEndpoint, method: CallSpec['method'], path: string, options: CallOptions, request?: RequestParts): Promise<unknown> {
    const call = { idempotent: method === 'GET' };
    return recordBackendCall(endpoint, withFailover(this.urls, call, (base) => callJson(this.reader, this.spec(base, endpoint, method, path, options, request))));
  }
}

/** What a call sends beyond the defaults (JSON accept, credentials, the call timeouts). */
interface RequestParts {
  json?: unknown;
  /** a JSON body already written */
  jsonText?: string;
  form?: FormData;
  headers?: Record<string, string>;
  /** false: send no Authorization */
  auth?: boolean;
  totalMs?: number;
  idleMs?: number;
}

function uploadPath(sessionId: string): string {
  return `api/upload-video/nemo_agent/me/${encodeURIComponent(sessionId)}`;
}

/** The URL a JSON download reply points to, or the error it stands for. */
async function linkFromReply(reply: OpenReply): Promise<string> {
  const text = await readText(reply, 'download');
  throwIfError(reply, 'download', text);
  const link = pickString(asRecord(envelopeData(parseJson(text))), 'url', 'download_url', 'downloadUrl', 'outputUrl', 'output_url');
  if (!link) throw badReply('download', 'the reply names no file to download', reply.statusCode);
  return link;
}
