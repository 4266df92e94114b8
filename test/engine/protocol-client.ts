import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { startEngine, type EngineOptions } from '../../src/engine/app.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { dropKeys } from '../../src/engine/store/redis-store.ts';

/** A running engine on a loopback port with its own data folder and its own Redis prefix. */
export interface TestEngine {
  url: string;
  dir: string;
  /** its ENGINE_REDIS_PREFIX */
  redisPrefix: string;
  close(): Promise<void>;
}

/** A prefix of its own for a test engine's keys. */
export const testEnginePrefix = () => `test-engine-${randomBytes(6).toString('hex')}`;

/** Deletes every key of a test engine's prefix. */
export async function dropEngineKeys(prefix: string): Promise<void> {
  const redis = createRedis(inject('redisUrl'));
  try {
    await dropKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/**
 * In this process; its keys are deleted on close unless the test passed a
 * prefix (to share it). `port`: where it listens (default: a free port); its
 * `url` is `publicUrl` when that is set.
 */
export async function startTestEngine(options: Partial<EngineOptions> & { port?: number } = {}): Promise<TestEngine> {
  const dir = await mkdtemp(path.join(tmpdir(), 'i2v-engine-'));
  const redisPrefix = options.redisPrefix ?? testEnginePrefix();
  const engine = await startEngine({
    dataDir: path.join(dir, 'data'),
    logger: createLogger({ level: 'silent' }),
    noTextRate: 0,
    redis: inject('redisUrl'),
    ...options,
    redisPrefix,
  });
  return {
    url: engine.url,
    dir,
    redisPrefix,
    close: async () => {
      await engine.close();
      if (!options.redisPrefix) await dropEngineKeys(redisPrefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const ATTRIBUTION = { 'x-skill-source': 'image-to-video-ai-movement', 'x-skill-version': '1.0.0', 'x-skill-platform': 'unknown' };

export interface JsonReply {
  status: number;
  headers: Headers;
  body: any;
}

/** Talks the upstream protocol to an engine, one call per method, as a client would. */
export class ProtocolClient {
  token = '';
  userId = '';
  sessionId = '';

  constructor(readonly baseUrl: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...ATTRIBUTION, ...(this.token && { authorization: `Bearer ${this.token}` }), ...extra };
  }

  async call(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
    const init: RequestInit = { method, headers: this.headers(headers) };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${urlPath}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  async anonymousToken(clientId = randomUUID()): Promise<JsonReply> {
    const reply = await this.call('POST', '/api/auth/anonymous-token', undefined, { 'x-client-id': clientId });
    if (reply.body?.code === 0) {
      this.token = reply.body.data.token;
      this.userId = reply.body.data.user_id;
    }
    return reply;
  }

  async createSession(): Promise<JsonReply> {
    const reply = await this.call('POST', '/api/tasks/me/with-session/nemo_agent', { task_name: 'project', language: 'en' });
    if (reply.body?.code === 0) this.sessionId = reply.body.data.session_id;
    return reply;
  }

  /** A fresh token and session. */
  async connect(): Promise<this> {
    await this.anonymousToken();
    await this.createSession();
    return this;
  }

  async upload(files: { path: string; filename?: string }[], sessionId = this.sessionId): Promise<JsonReply> {
    const form = new FormData();
    for (const file of files) {
      form.append('files', new Blob([await readFile(file.path)]), file.filename ?? path.basename(file.path));
    }
    return this.call('POST', `/api/upload-video/nemo_agent/me/${sessionId}`, form);
  }

  /** POST /run_sse; `frames` are the `data:` payloads as sent, `events` those that are JSON. */
  async runSse(text: string, extra: Record<string, unknown> = {}): Promise<{ status: number; contentType: string | null; frames: string[]; events: any[] }> {
    const response = await fetch(`${this.baseUrl}/run_sse`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json', accept: 'text/event-stream' }),
      body: JSON.stringify({
        app_name: 'nemo_agent',
        user_id: 'me',
        session_id: this.sessionId,
        new_message: { parts: [{ text }] },
        ...extra,
      }),
    });
    const raw = await response.text();
    const contentType = response.headers.get('content-type');
    // errors before the stream starts are plain JSON replies
    if (!contentType?.startsWith('text/event-stream')) return { status: response.status, contentType, frames: [], events: [JSON.parse(raw)] };
    const frames = raw
      .split('\n\n')
      .filter((block) => block !== '')
      .map((block) => {
        const lines = block.split('\n');
        if (lines.some((line) => !line.startsWith('data:'))) throw new Error(`unexpected SSE line in ${JSON.stringify(block)}`);
        return lines.map((line) => line.slice(5).replace(/^ /, '')).join('\n');
      });
    const events = frames.filter((frame) => frame.trim() !== '').map((frame) => JSON.parse(frame));
    return { status: response.status, contentType, frames, events };
  }

  state(sessionId = this.sessionId): Promise<JsonReply> {
    return this.call('GET', `/api/state/nemo_agent/me/${sessionId}/latest`);
  }

  startRender(id: string, draft: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
    return this.call('POST', '/api/render/proxy/lambda', { id, sessionId: this.sessionId, draft, output: { format: 'mp4', quality: 'high' } }, headers);
  }

  poll(id: string): Promise<JsonReply> {
    return this.call('GET', `/api/render/proxy/lambda/${id}`);
  }

  /** Polls until the render ends; returns the last reply body. */
  async waitForRender(id: string, statusOf: (body: any) => string = (body) => body.data.status): Promise<any> {
    for (;;) {
      const reply = await this.poll(id);
      const status = statusOf(reply.body);
      if (status === 'completed' || status === 'failed') return reply.body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The client, its requests now carrying another skill's X-Skill-Source (e.g. a generative preset's). */
export function asSkill(client: ProtocolClient, source: string): ProtocolClient {
  const headers = client.headers.bind(client);
  client.headers = (extra = {}) => ({ ...headers(extra), 'x-skill-source': source });
  return client;
}

/** A by-hand draft of one image at a small size. */
export function smallDraft(src: string, options: { width?: number; height?: number; durationMs?: number; motion?: string } = {}) {
  const d = options.durationMs ?? 2000;
  return {
    t: [{ tt: 0, sg: [{ s: 0, d, src, m: { name: 'photo.jpg', motion: options.motion ?? 'zoom-in', intensity: 0.15 } }] }],
    d,
    m: { title: 'test', width: options.width ?? 180, height: options.height ?? 320, fps: 30 },
  };
}
