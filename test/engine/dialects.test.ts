import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect, EngineOptions } from '../../src/engine/app.ts';
import { collectReply } from '../../src/shared/backend/reply-collector.ts';
import { eventsFromFrame } from '../../src/shared/backend/sse-events.ts';
import { SKILL_SOURCE } from '../../src/shared/jobs/presets.ts';
import { makeTestImage } from '../helpers/media.ts';
import { asSkill, ProtocolClient, smallDraft, startTestEngine, type TestEngine } from './protocol-client.ts';

/** Every variant the protocol page lists, emitted on demand; one engine per setting. */
describe('engine dialects', () => {
  const engines: TestEngine[] = [];
  let photo: string;

  async function engineWith(options: Partial<EngineOptions> & { dialect?: Partial<Dialect> }): Promise<TestEngine> {
    const engine = await startTestEngine(options);
    engines.push(engine);
    return engine;
  }

  /** a client with a token, a session and one uploaded photo */
  async function readyClient(engine: TestEngine): Promise<ProtocolClient> {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo }]);
    return client;
  }

  beforeAll(async () => {
    const first = await engineWith({});
    photo = await makeTestImage(path.join(first.dir, 'photo.jpg'), 320, 240);
  });
  afterAll(async () => {
    for (const engine of engines) await engine.close();
  });

  describe('render poll shapes', () => {
    async function completedPoll(pollShape: Dialect['pollShape'], statusOf: (body: any) => string) {
      const client = await readyClient(await engineWith({ dialect: { pollShape } }));
      const src = (await client.state()).body.data.state.video_infos[0].cdn_url;
      await client.startRender(`render_${pollShape}`, smallDraft(src, { durationMs: 500 }));
      return client.waitForRender(`render_${pollShape}`, statusOf);
    }

    it('envelope: {"success":true,"data":{id,status,progress,outputUrl}}', async () => {
      const body = await completedPoll('envelope', (b) => b.data.status);
      expect(body).toEqual({ success: true, data: { id: 'render_envelope', status: 'completed', progress: 100, outputUrl: expect.stringMatching(/\.mp4$/) } });
    });

    it('task: {taskId,status,progress,output:{url,duration,size}}', async () => {
      const body = await completedPoll('task', (b) => b.status);
      expect(body).toEqual({
        taskId: 'render_task',
        status: 'completed',
        progress: 100,
        output: { url: expect.stringMatching(/\.mp4$/), duration: expect.closeTo(0.5, 1), size: expect.any(Number) },
      });
      const file = await fetch(body.output.url);
      expect(Number(file.headers.get('content-length'))).toBe(body.output.size);
    });

    it('flat: top-level status with output.url', async () => {
      const body = await completedPoll('flat', (b) => b.status);
      expect(body).toEqual({ id: 'render_flat', status: 'completed', progress: 100, output: { url: expect.stringMatching(/\.mp4$/) } });
    });
  });

  it('snake_case event keys, with tool args left as they are', async () => {
    const client = await readyClient(await engineWith({ dialect: { sseKeys: 'snake' } }));
    const { frames, events } = await client.runSse('animate this image');
    const raw = frames.join('\n');
    for (const camel of ['invocationId', 'functionCall', 'functionResponse', 'stateDelta', 'artifactDelta', 'requestedAuthConfigs']) expect(raw).not.toContain(`"${camel}"`);
    const call = events.find((e) => e.content?.parts?.[0]?.function_call);
    expect(call).toMatchObject({ invocation_id: expect.stringMatching(/^e-/), actions: { state_delta: {}, artifact_delta: {}, requested_auth_configs: {} } });
    expect(call.content.parts[0].function_call.args).toMatchObject({ duration_ms: 5000, aspect_ratio: '9:16' });
    expect(events.some((e) => e.content?.parts?.[0]?.function_response)).toBe(true);
  });

  describe('streaming text', () => {
    function expectPartialsThenWhole(events: any[]) {
      const texts = events.filter((e) => typeof e.content?.parts?.[0]?.text === 'string');
      const partials = texts.filter((e) => e.partial === true);
      const final = texts.at(-1);
      expect(partials.length).toBeGreaterThan(1);
      expect(final.partial).toBeUndefined();
      expect(partials.map((e) => e.content.parts[0].text).join('')).toBe(final.content.parts[0].text);
    }

    it('partial chunks then one aggregate repeating the whole text, when the dialect streams', async () => {
      const client = await readyClient(await engineWith({ dialect: { sseStreaming: true } }));
      expectPartialsThenWhole((await client.runSse('animate this image')).events);
    });

    it('the same when the request asks for "streaming": true', async () => {
      const client = await readyClient(engines[0]!);
      expectPartialsThenWhole((await client.runSse('animate this image', { streaming: true })).events);
      const plain = await client.runSse('animate this image');
      expect(plain.events.filter((e) => e.partial)).toEqual([]);
    });
  });

  it('legacy {"type":…} frames', async () => {
    const client = await readyClient(await engineWith({ dialect: { sseLegacyFrames: true } }));
    const { events } = await client.runSse('animate this image with a zoom out');
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'heartbeat', 'text']);
    expect(events[0]).toMatchObject({ name: 'edit_multitrack', args: { motion: 'zoom-out' } });
    expect(events[2].content).toMatch(/zoom-out/);
    expect((await client.state()).body.data.state.draft.t[0].sg[0].m.motion).toBe('zoom-out');
  });

  it('heartbeats as empty data: lines, repeated while the agent works', async () => {
    const client = await readyClient(await engineWith({ dialect: { heartbeatStyle: 'empty' }, agentDelayMs: 80, heartbeatMs: 10 }));
    const { frames, events } = await client.runSse('animate this image');
    expect(frames.filter((frame) => frame === '').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'heartbeat')).toBe(false);
  });

  describe('text or no text', () => {
    it('noTextRate 1: tool events only, and the draft is still there', async () => {
      const client = await readyClient(await engineWith({ noTextRate: 1 }));
      const { events } = await client.runSse('animate this image');
      expect(events.some((e) => e.content?.parts?.[0]?.functionCall)).toBe(true);
      expect(events.some((e) => e.content?.parts?.[0]?.functionResponse)).toBe(true);
      expect(events.some((e) => typeof e.content?.parts?.[0]?.text === 'string')).toBe(false);
      expect((await client.state()).body.data.state.draft).not.toBeNull();
    });

    it('the roll uses the injected random source', async () => {
      const rolls = [0.2, 0.5];
      const client = await readyClient(await engineWith({ noTextRate: 0.3, random: () => rolls.shift() ?? 0 }));
      const hasText = async () => (await client.runSse('animate this image')).events.some((e) => typeof e.content?.parts?.[0]?.text === 'string');
      expect(await hasText()).toBe(false);
      expect(await hasText()).toBe(true);
    });
  });

  describe('a generative preset is refused with the engine_capability code', () => {
    it.each<[string, Partial<Dialect>]>([
      ['camelCase ADK events', {}],
      ['snake_case ADK events', { sseKeys: 'snake' }],
      ['streamed partial text', { sseStreaming: true }],
      ['legacy typed frames', { sseLegacyFrames: true }],
    ])('%s: the reply text, then the code the client reads', async (_name, dialect) => {
      const client = asSkill(await readyClient(await engineWith({ dialect })), SKILL_SOURCE.diffusion);
      const { frames } = await client.runSse('animate this image');
      const reply = collectReply(frames.flatMap(eventsFromFrame));
      expect(reply.error).toEqual({ code: 'engine_capability', message: expect.stringContaining('BACKEND_URL') });
      expect(reply.text).toMatch(/generate video/);
      expect(reply.toolCalls).toEqual([]);
      expect((await client.state()).body.data.state.draft).toBeNull();
    });

    it('legacy frames: {"error":{"code":"engine_capability","message":…}}', async () => {
      const client = asSkill(await readyClient(await engineWith({ dialect: { sseLegacyFrames: true } })), SKILL_SOURCE.pixverse);
      const { events } = await client.runSse('animate this image');
      expect(events).toEqual([
        { type: 'text', content: expect.stringMatching(/generate video/) },
        { error: { code: 'engine_capability', message: expect.stringMatching(/NEMO_TOKEN/) } },
      ]);
    });
  });

  it('business errors with a matching HTTP status', async () => {
    const engine = await engineWith({ dialect: { businessErrorHttp: 'status' }, initialCredits: 0 });
    const client = new ProtocolClient(engine.url);
    const missingClientId = await client.call('POST', '/api/auth/anonymous-token');
    expect([missingClientId.status, missingClientId.body.code]).toEqual([400, 400]);
    const clientId = 'f5b7e4a0-8c1e-4f7e-9a53-0d2d7c0b5d11';
    await client.anonymousToken(clientId);
    const limited = await new ProtocolClient(engine.url).anonymousToken(clientId);
    expect([limited.status, limited.body.code, limited.headers.get('retry-after')]).toEqual([429, 429, '30']);

    const noToken = await new ProtocolClient(engine.url).call('GET', '/api/credits/balance/simple');
    expect([noToken.status, noToken.body.code]).toEqual([401, 1001]);

    await client.createSession();
    const unknown = await client.state('5529798706024415232');
    expect([unknown.status, unknown.body.code]).toEqual([404, 1002]);

    const badType = await client.upload([{ path: photo, filename: 'photo.bmp' }]);
    expect([badType.status, badType.body.code]).toEqual([415, 4001]);

    // the same errors come with HTTP 200 by default
    const okDialect = await new ProtocolClient(engines[0]!.url).call('GET', '/api/credits/balance/simple');
    expect([okDialect.status, okDialect.body.code]).toEqual([200, 1001]);
  });
});
