import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendClient } from '../../../src/shared/backend/client.ts';
import { skillForPreset } from '../../../src/shared/backend/attribution.ts';
import { ReplyAccumulator } from '../../../src/shared/backend/reply-collector.ts';
import { draftSchema } from '../../../src/shared/jobs/draft.ts';
import { probeMedia } from '../../../src/shared/media/ffprobe.ts';
import type { Dialect } from '../../../src/engine/options.ts';
import { makeTestImage } from '../../helpers/media.ts';
import { startTestEngine, type TestEngine } from '../../engine/protocol-client.ts';
import { failure } from './backend-failure.ts';

const INSTRUCTION = 'Animate this image with a slow zoom-in. Duration: 1 seconds. Aspect ratio 1:1 at 720p.';

/** The client, driven against the real engine speaking each reply variant of the protocol. */
describe('the backend client against the embedded engine, in every dialect', () => {
  let engine: TestEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  async function connect(dialect: Partial<Dialect>, options: { noTextRate?: number; heartbeatMs?: number; agentDelayMs?: number } = {}) {
    engine = await startTestEngine({ dialect, ...options });
    const anonymous = new BackendClient({ baseUrl: engine.url, skill: skillForPreset('motion', '1.0.0', 'unknown') });
    const { token } = await anonymous.anonymousToken(crypto.randomUUID());
    const client = anonymous.withToken(token);
    const { sessionId } = await client.createSession();
    const image = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 320, 240);
    const [file] = await client.uploadFiles(sessionId, [{ path: image, filename: 'photo.jpg' }]);
    expect(file).toMatchObject({ fileType: 'image', width: 320, height: 240 });
    return { client, sessionId, engine };
  }

  async function instruct(client: BackendClient, sessionId: string) {
    const reply = new ReplyAccumulator();
    const kinds = new Set<string>();
    for await (const event of client.runSse(sessionId, INSTRUCTION)) {
      kinds.add(event.kind);
      reply.add(event);
    }
    const state = await client.getState(sessionId);
    return { reply: reply.result(), kinds, draft: draftSchema.parse(state.state.draft) };
  }

  it.each<[string, Partial<Dialect>]>([
    ['camelCase ADK events', {}],
    ['snake_case ADK events', { sseKeys: 'snake' }],
    ['streamed partial text', { sseStreaming: true }],
    ['legacy typed frames', { sseLegacyFrames: true }],
  ])('reads an instruction reply with %s', async (_name, dialect) => {
    const { client, sessionId } = await connect(dialect);
    const { reply, kinds, draft } = await instruct(client, sessionId);
    expect(kinds).toContain('tool_call');
    expect(reply.hasText).toBe(true);
    expect(reply.error).toBeUndefined();
    if (dialect.sseStreaming) {
      // the aggregate repeats the chunks; the reply must hold the text once
      const opening = reply.text.slice(0, 24);
      expect(opening.length).toBe(24);
      expect(reply.text.indexOf(opening)).toBe(reply.text.lastIndexOf(opening));
    }
    expect(draft.m).toMatchObject({ width: 720, height: 720 });
    expect(draft.d).toBe(1000);
  });

  it.each<['typed' | 'empty']>([['typed'], ['empty']])('keeps a slow instruction alive with %s heartbeats', async (heartbeatStyle) => {
    const { client, sessionId } = await connect({ heartbeatStyle }, { heartbeatMs: 50, agentDelayMs: 300 });
    const { kinds } = await instruct(client, sessionId);
    expect(kinds).toContain('heartbeat');
  });

  it('finds the draft in the state when the reply has no text', async () => {
    const { client, sessionId } = await connect({}, { noTextRate: 1 });
    const { reply, draft } = await instruct(client, sessionId);
    expect(reply.hasText).toBe(false);
    expect(draft.t[0]?.sg).toHaveLength(1);
  });

  it.each<[Dialect['pollShape']]>([['envelope'], ['task'], ['flat']])('renders and downloads with the %s poll reply', async (pollShape) => {
    const { client, sessionId, engine: running } = await connect({ pollShape });
    const { draft } = await instruct(client, sessionId);
    const started = await client.startRender({ id: `render_${pollShape}`, sessionId, draft });
    expect(['pending', 'processing']).toContain(started.status);
    let status = started;
    while (status.status !== 'completed' && status.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      status = await client.getRender(started.id);
    }
    expect(status).toMatchObject({ status: 'completed', progress: 100 });
    const target = path.join(running.dir, 'out.mp4');
    await client.downloadToFile(status.outputUrl as string, target, { maxBytes: 50_000_000 });
    const media = await probeMedia(target);
    expect(media.video).toMatchObject({ codec: 'h264', width: 720, height: 720 });
  });

  it.each<[Dialect['businessErrorHttp']]>([['ok'], ['status']])('maps business errors sent with HTTP %s to their codes', async (businessErrorHttp) => {
    const { client } = await connect({ businessErrorHttp });
    expect((await failure(client.withToken('nmv_usr_unknown').createSession())).code).toBe(1001);
    expect((await failure(client.getState('123'))).code).toBe(1002);
    const render = await failure(client.startRender({ id: 'render_x', sessionId: '123', draft: { t: [] } }));
    expect(render.code).not.toBe(0);
  });
});
