import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A stand-in for the seeds' cloud backend (shared/upstream-protocol.md), for
 * tests that drive jobs through the real API and worker against it. It
 * follows the seeds and nothing of ours: it imports nothing from src/, builds
 * its own drafts (only the protocol's `t`, `tt`, `sg`, `d`, `m`, plus keys of
 * its own: `id`, `version`, `type`, `effects`…), writes JSON the way a Python
 * server does (`", "` and `": "` separators, non-ASCII escaped), answers some
 * edits with tool events only and shows their edit in the state a moment
 * later, and takes scripted replies (a 429, a `{"success":false}`…) for the
 * next calls of a route.
 */

export type CloudRoute = 'anonymous-token' | 'session' | 'upload' | 'run_sse' | 'state' | 'credits' | 'render' | 'render-poll' | 'cdn';

export interface CloudRequest {
  route: CloudRoute;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Date.now() when it arrived */
  at: number;
}

export interface ScriptedReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface StandInCloudOptions {
  /** where it writes the MP4 its renders answer with */
  dir: string;
  /** how edits are answered: with text, or with tool events only (the state shows the edit `lateStateMs` after the stream closed) */
  replies?: 'text' | 'tools';
  lateStateMs?: number;
  /** polls a render answers `processing` before it is `completed` */
  pollsToComplete?: number;
  /** credits each /run_sse message costs */
  creditsPerMessage?: number;
}

export interface StandInCloud {
  url: string;
  requests: CloudRequest[];
  /** requests of one route, in order */
  requestsOf(route: CloudRoute): CloudRequest[];
  /** the exact text of each draft a state reply carried */
  servedDrafts: string[];
  /** the exact text of the draft in each render request */
  renderedDrafts: string[];
  /** the next calls of `route` get these replies, one each, before it answers normally again */
  script(route: CloudRoute, ...replies: ScriptedReply[]): void;
  /** X-Client-Ids the anonymous-token endpoint refuses (400) as invalid; `'first'` refuses whichever comes first */
  refuseClientIds(ids: 'first' | string[]): void;
  /** sessions created so far */
  sessions(): number;
  close(): Promise<void>;
}

const SKILL_MAX_BYTES: Record<string, number> = { 'pixverse-ai-image-to-video': 20 * 1024 * 1024 };
const MAX_BYTES = 200 * 1024 * 1024;
const ACCEPTED = /\.(mp4|mov|avi|webm|mkv|jpg|jpeg|png|gif|webp|mp3|wav|m4a|aac)$/i;

interface Account {
  userId: string;
  credits: number;
}

interface Session {
  id: string;
  taskId: string;
  token: string;
  files: { filename: string; file_type: string; cdn_url: string; hash: string }[];
  draft: Record<string, unknown> | null;
  version: number;
}

interface Render {
  sessionId: string;
  polls: number;
}

/** JSON as Python's json.dumps writes it by default. */
function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** The text of the value of the top-level key `key` in a JSON object's text. */
function topLevelValue(text: string, key: string): string | undefined {
  let i = text.indexOf('{') + 1;
  const skipString = () => {
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
  };
  const skipValue = () => {
    for (let level = 0; i < text.length; ) {
      const c = text[i];
      if (c === '"') {
        skipString();
        if (level === 0) return;
        continue;
      }
      if (level === 0 && (c === ',' || c === '}')) return;
      if (c === '{' || c === '[') level++;
      i++;
      if (c === '}' || c === ']') if (--level === 0) return;
    }
  };
  while (i < text.length) {
    while (/[\s,]/.test(text[i] ?? '')) i++;
    if (text[i] !== '"') return undefined;
    const start = i;
    skipString();
    const name = JSON.parse(text.slice(start, i)) as string;
    while (/[\s:]/.test(text[i] ?? '')) i++;
    const from = i;
    skipValue();
    if (name === key) return text.slice(from, i).trimEnd();
  }
  return undefined;
}

const sendBody = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
const ok = (data: unknown) => ({ code: 0, message: 'success', data });

function adkEvent(parts: unknown[], role: 'model' | 'user' = 'model'): string {
  return JSON.stringify({
    content: { parts, role },
    invocationId: `e-${randomUUID()}`,
    author: 'nemo_agent',
    actions: { stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {} },
    id: randomUUID(),
    timestamp: Date.now() / 1000,
  });
}

export async function startStandInCloud(options: StandInCloudOptions): Promise<StandInCloud> {
  const video = path.join(options.dir, 'stand-in-render.mp4');
  await promisify(execFile)('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '1', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', video]);
  const videoBytes = await readFile(video);
  const lateStateMs = options.lateStateMs ?? 1500;
  const pollsToComplete = options.pollsToComplete ?? 2;
  const creditsPerMessage = options.creditsPerMessage ?? 5;

  const requests: CloudRequest[] = [];
  const servedDrafts: string[] = [];
  const renderedDrafts: string[] = [];
  const scripted = new Map<CloudRoute, ScriptedReply[]>();
  const accounts = new Map<string, Account>();
  const tokensByClient = new Set<string>();
  const sessions = new Map<string, Session>();
  const renders = new Map<string, Render>();
  const uploads = new Map<string, Buffer>();
  const timers = new Set<NodeJS.Timeout>();
  let refused: 'first' | Set<string> = new Set();
  let base = '';

  const routeOf = (method: string, url: string): CloudRoute | undefined => {
    if (method === 'POST' && url === '/api/auth/anonymous-token') return 'anonymous-token';
    if (method === 'POST' && url === '/api/tasks/me/with-session/nemo_agent') return 'session';
    if (method === 'POST' && url.startsWith('/api/upload-video/nemo_agent/me/')) return 'upload';
    if (method === 'POST' && url === '/run_sse') return 'run_sse';
    if (method === 'GET' && /^\/api\/state\/nemo_agent\/me\/[^/]+\/latest$/.test(url)) return 'state';
    if (method === 'GET' && url === '/api/credits/balance/simple') return 'credits';
    if (method === 'POST' && url === '/api/render/proxy/lambda') return 'render';
    if (method === 'GET' && url.startsWith('/api/render/proxy/lambda/')) return 'render-poll';
    if (method === 'GET' && url.startsWith('/cdn/')) return 'cdn';
    return undefined;
  };

  const accountOf = (headers: IncomingHttpHeaders): { token: string; account: Account } | undefined => {
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const account = token ? accounts.get(token) : undefined;
    return token && account ? { token, account } : undefined;
  };

  /** The draft the agent makes of a session's files: its own shape, the protocol's keys among its own. */
  const editedDraft = (session: Session, text: string): Record<string, unknown> => {
    const pictures = session.files.filter((file) => file.file_type === 'image');
    return {
      id: `draft_${session.id}`,
      version: session.version + 1,
      type: 'timeline',
      t: [
        {
          id: 'track_main',
          tt: 0,
          sg: pictures.map((file, i) => ({ id: `seg_${i + 1}`, d: 5000, m: { asset: file.cdn_url, label: 'Café photo', effects: [{ type: 'zoom', from: 1, to: 1.15 }] } })),
        },
      ],
      d: 5000 * pictures.length,
      m: { title: 'Café — projet', width: 1920, height: 1080, prompt: text.slice(0, 80) },
      effects: [],
    };
  };

  const handle = async (route: CloudRoute, request: CloudRequest, res: ServerResponse): Promise<void> => {
    const { headers } = request;
    const text = request.body.toString('utf8');
    if (route === 'cdn') {
      const file = request.path.startsWith('/cdn/renders/') ? videoBytes : uploads.get(request.path);
      if (!file) return void sendBody(res, 404, pythonJson({ detail: 'Not Found' }));
      return void res.writeHead(200, { 'content-type': request.path.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream', 'content-length': String(file.length) }).end(file);
    }
    if (route === 'anonymous-token') {
      const clientId = headers['x-client-id'];
      if (typeof clientId === 'string' && refused === 'first') refused = new Set([clientId]);
      if (typeof clientId !== 'string' || !clientId || (refused instanceof Set && refused.has(clientId))) {
        return void sendBody(res, 400, pythonJson({ code: 400, message: 'Missing or invalid X-Client-Id' }));
      }
      if (tokensByClient.has(clientId)) return void sendBody(res, 429, pythonJson({ code: 429, message: 'Rate limited: one anonymous token per client per 7 days' }));
      tokensByClient.add(clientId);
      const token = `nmv_usr_${randomBytes(12).toString('hex')}`;
      const userId = `anon_${randomBytes(6).toString('hex')}`;
      accounts.set(token, { userId, credits: 100 });
      return void sendBody(res, 200, pythonJson(ok({ token, user_id: userId, expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(), credits: 100 })));
    }
    const caller = accountOf(headers);
    if (!caller) return void sendBody(res, 401, pythonJson({ code: 1001, message: 'Token invalid or expired' }));
    const { account, token } = caller;

    if (route === 'credits') return void sendBody(res, 200, pythonJson(ok({ available: account.credits, frozen: 0, total: account.credits })));
    if (route === 'session') {
      const id = String(5529798706024415232n + BigInt(sessions.size + 1));
      const session: Session = { id, taskId: `task_${randomBytes(6).toString('hex')}`, token, files: [], draft: null, version: 0 };
      sessions.set(id, session);
      return void sendBody(res, 200, pythonJson(ok({ task_id: session.taskId, session_id: id, user_id: account.userId })));
    }
    const sessionOf = (id: string | undefined) => {
      const session = id ? sessions.get(id) : undefined;
      return session && session.token === token ? session : undefined;
    };
    if (route === 'upload') {
      const session = sessionOf(decodeURIComponent(request.path.split('/').pop() ?? ''));
      if (!session) return void sendBody(res, 200, pythonJson({ code: 1002, message: 'Session not found' }));
      const form = await new Request('http://stand-in/upload', { method: 'POST', headers: { 'content-type': String(headers['content-type']) }, body: request.body }).formData();
      const max = SKILL_MAX_BYTES[String(headers['x-skill-source'])] ?? MAX_BYTES;
      const files: Session['files'] = [];
      for (const part of form.getAll('files')) {
        if (typeof part === 'string') continue;
        if (!ACCEPTED.test(part.name)) return void sendBody(res, 200, pythonJson({ code: 4001, message: 'Unsupported file type' }));
        if (part.size > max) return void sendBody(res, 200, pythonJson({ code: 4002, message: `File too large (max ${max / 1024 / 1024} MB)` }));
        const cdnPath = `/cdn/${session.id}/${session.files.length + files.length}-${encodeURIComponent(part.name)}`;
        uploads.set(cdnPath, Buffer.from(await part.arrayBuffer()));
        const fileType = /\.(mp3|wav|m4a|aac)$/i.test(part.name) ? 'audio' : /\.(mp4|mov|avi|webm|mkv)$/i.test(part.name) ? 'video' : 'image';
        files.push({ filename: part.name, file_type: fileType, cdn_url: `${base}${cdnPath}`, hash: randomBytes(8).toString('hex') });
      }
      session.files.push(...files);
      return void sendBody(res, 200, pythonJson(ok({ files, session_state_applied: true })));
    }
    if (route === 'run_sse') {
      const body = JSON.parse(text) as { app_name?: string; session_id?: string; new_message?: { parts?: { text?: string }[] } };
      const session = sessionOf(body.session_id);
      if (!session) return void sendBody(res, 404, JSON.stringify({ detail: 'Session not found' }));
      const instruction = body.new_message?.parts?.[0]?.text ?? '';
      account.credits -= creditsPerMessage;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const frame = (data: string) => res.write(`data: ${data}\n\n`);
      frame(JSON.stringify({ type: 'heartbeat' }));
      const callId = `adk-${randomUUID()}`;
      frame(adkEvent([{ functionCall: { id: callId, name: 'edit_multitrack', args: { instruction } } }]));
      frame('');
      frame(adkEvent([{ functionResponse: { id: callId, name: 'edit_multitrack', response: { status: 'success' } } }], 'user'));
      const draft = editedDraft(session, instruction);
      const apply = () => {
        session.draft = draft;
        session.version += 1;
      };
      if ((options.replies ?? 'text') === 'text') {
        apply();
        frame(adkEvent([{ text: "Done! I animated your photo with a slow zoom. Click the Export button to download it." }]));
      } else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          apply();
        }, lateStateMs);
        timers.add(timer);
      }
      return void res.end();
    }
    if (route === 'state') {
      const session = sessionOf(decodeURIComponent(request.path.split('/')[5] ?? ''));
      if (!session) return void sendBody(res, 200, pythonJson({ code: 1002, message: 'Session not found' }));
      if (session.draft) servedDrafts.push(pythonJson(session.draft));
      const state = { draft: session.draft, video_infos: session.files, generated_media: null, canvas_config: { width: 1920, height: 1080 } };
      return void sendBody(res, 200, pythonJson(ok({ session_id: session.id, task_id: session.taskId, state })));
    }
    if (route === 'render') {
      if (!headers['x-skill-source'] || !headers['x-skill-version'] || !headers['x-skill-platform']) {
        return void sendBody(res, 402, pythonJson({ success: false, error: 'Export blocked: missing attribution headers' }));
      }
      const body = JSON.parse(text) as { id?: string; sessionId?: string; draft?: { t?: { sg?: unknown[] }[] } };
      const draftText = topLevelValue(text, 'draft');
      if (draftText !== undefined) renderedDrafts.push(draftText);
      if (!body.id || !sessionOf(body.sessionId)) return void sendBody(res, 200, pythonJson({ success: false, error: 'Session not found' }));
      if (renders.has(body.id)) return void sendBody(res, 200, pythonJson({ success: false, error: `Render ${body.id} already exists` }));
      if (!body.draft?.t?.some((track) => (track.sg?.length ?? 0) > 0)) return void sendBody(res, 200, pythonJson({ success: false, error: 'Draft has no segments to export' }));
      renders.set(body.id, { sessionId: body.sessionId as string, polls: 0 });
      return void sendBody(res, 200, pythonJson({ success: true, data: { id: body.id, status: 'pending', progress: 5 } }));
    }
    // render-poll: the seeds' own wording, a top-level status with output.url
    const id = decodeURIComponent(request.path.split('/').pop() ?? '');
    const render = renders.get(id);
    if (!render || !sessionOf(render.sessionId)) return void sendBody(res, 404, pythonJson({ success: false, error: 'Render not found' }));
    render.polls += 1;
    if (render.polls <= pollsToComplete) return void sendBody(res, 200, pythonJson({ taskId: id, status: 'processing', progress: Math.min(90, render.polls * 30) }));
    return void sendBody(res, 200, pythonJson({ taskId: id, status: 'completed', progress: 100, output: { url: `${base}/cdn/renders/${id}.mp4` } }));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const route = routeOf(req.method ?? '', req.url ?? '');
      if (!route) return void sendBody(res, 404, JSON.stringify({ detail: 'Not Found' }));
      const request: CloudRequest = { route, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      requests.push(request);
      const next = scripted.get(route)?.shift();
      if (next) return void sendBody(res, next.status, pythonJson(next.body), next.headers);
      handle(route, request, res).catch((error: unknown) => {
        if (!res.headersSent) sendBody(res, 500, pythonJson({ detail: String(error) }));
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests,
    requestsOf: (route) => requests.filter((request) => request.route === route),
    servedDrafts,
    renderedDrafts,
    script(route, ...replies) {
      scripted.set(route, [...(scripted.get(route) ?? []), ...replies]);
    },
    refuseClientIds(ids) {
      refused = ids === 'first' ? 'first' : new Set(ids);
    },
    sessions: () => sessions.size,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
