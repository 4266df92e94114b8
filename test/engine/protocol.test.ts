import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftSchema } from '../../src/shared/jobs/draft.ts';
import { SKILL_SOURCE } from '../../src/shared/jobs/presets.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import { composeInstruction } from '../../src/shared/jobs/instruction.ts';
import { makeTestImage } from '../helpers/media.ts';
import { asSkill, ProtocolClient, startTestEngine, type TestEngine } from './protocol-client.ts';

/** A JPEG with an EXIF APP1 segment holding only an Orientation tag, right after SOI. */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const entry = Buffer.alloc(12);
  entry.writeUInt16BE(0x0112, 0); // Orientation
  entry.writeUInt16BE(3, 2); // SHORT
  entry.writeUInt32BE(1, 4);
  entry.writeUInt16BE(orientation, 8);
  const tiff = Buffer.concat([Buffer.from('MM\x00\x2a', 'latin1'), Buffer.from([0, 0, 0, 8, 0, 1]), entry, Buffer.alloc(4)]);
  const app1 = Buffer.concat([Buffer.from('Exif\x00\x00', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(app1.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, app1, jpeg.subarray(2)]);
}

describe('engine protocol: token → session → upload → run_sse → state', () => {
  let engine: TestEngine;
  let photo: string;

  beforeAll(async () => {
    engine = await startTestEngine({ staticTokens: ['configured-nemo-token'], initialCredits: 100 });
    photo = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 640, 480);
  });
  afterAll(() => engine.close());

  it('walks the whole lifecycle and leaves a draft of the uploaded image in the session state', async () => {
    const client = new ProtocolClient(engine.url);
    const token = await client.anonymousToken();
    expect(token.status).toBe(200);
    expect(token.body.code).toBe(0);
    expect(token.body.data).toMatchObject({ token: expect.stringMatching(/^nmv_usr_/), user_id: expect.stringMatching(/^anon_/), credits: 100 });
    const expiresInDays = (Date.parse(token.body.data.expires_at) - Date.now()) / 86_400_000;
    expect(expiresInDays).toBeGreaterThan(6.9);
    expect(expiresInDays).toBeLessThanOrEqual(7);

    const session = await client.createSession();
    expect(session.body).toMatchObject({ code: 0, data: { task_id: expect.stringMatching(/^task_/), session_id: expect.stringMatching(/^\d{15,}$/), user_id: client.userId } });

    const upload = await client.upload([{ path: photo, filename: 'My Photo.JPG' }]);
    expect(upload.body.code).toBe(0);
    expect(upload.body.data.session_state_applied).toBe(true);
    const [file] = upload.body.data.files;
    expect(file).toMatchObject({ filename: 'My Photo.JPG', file_type: 'image', width: 640, height: 480, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // the cdn_url serves the very bytes uploaded, under a generated name
    expect(file.cdn_url).not.toContain('My Photo');
    const served = await fetch(file.cdn_url);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await served.arrayBuffer()).equals(await (await import('node:fs/promises')).readFile(photo))).toBe(true);

    const sse = await client.runSse('Animate this image with a slow zoom-in. Duration: 3 seconds. Aspect ratio 1:1 at 720p, 24 fps.');
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    const call = sse.events.find((e) => e.content?.parts?.[0]?.functionCall);
    const response = sse.events.find((e) => e.content?.parts?.[0]?.functionResponse);
    const text = sse.events.find((e) => typeof e.content?.parts?.[0]?.text === 'string');
    expect(call).toMatchObject({ author: 'nemo_agent', invocationId: expect.stringMatching(/^e-/), content: { role: 'model' } });
    expect(call.content.parts[0].functionCall).toMatchObject({ id: expect.stringMatching(/^adk-/), name: 'edit_multitrack' });
    expect(typeof call.timestamp).toBe('number');
    expect(call.actions).toEqual({ stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {} });
    expect(response.content.role).toBe('user');
    expect(response.content.parts[0].functionResponse.id).toBe(call.content.parts[0].functionCall.id);
    expect(text.content.parts[0].text).toMatch(/Export/);
    expect(sse.events.indexOf(call)).toBeLessThan(sse.events.indexOf(response));
    expect(sse.events.indexOf(response)).toBeLessThan(sse.events.indexOf(text));
    expect(sse.events.some((e) => e.type === 'heartbeat')).toBe(true);

    const state = await client.state();
    expect(state.body.code).toBe(0);
    const { draft, video_infos, canvas_config } = state.body.data.state;
    expect(state.body.data).toMatchObject({ session_id: client.sessionId, task_id: session.body.data.task_id });
    expect(draftSchema.parse(draft)).toMatchObject({ d: 3000, m: { width: 720, height: 720, fps: 24 } });
    expect(draft.t[0].sg).toEqual([expect.objectContaining({ s: 0, d: 3000, src: file.cdn_url, m: expect.objectContaining({ motion: 'zoom-in' }) })]);
    expect(video_infos).toEqual([file]);
    expect(canvas_config).toEqual({ width: 720, height: 720 });

    const credits = await client.call('GET', '/api/credits/balance/simple');
    expect(credits.body).toMatchObject({ code: 0, data: { available: 99, frozen: 0, total: 99 } });
  });

  it('builds one segment per image of the latest upload, in order, sharing the duration across a fade', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo, filename: 'old.jpg' }]);
    await client.upload([{ path: photo, filename: 'a.jpg' }, { path: photo, filename: 'b.jpg' }]);
    await client.runSse('animate these photos into a 6-second landscape video');
    const { draft, video_infos } = (await client.state()).body.data.state;
    expect(video_infos.map((f: any) => f.filename)).toEqual(['old.jpg', 'a.jpg', 'b.jpg']);
    expect(draft.m).toMatchObject({ width: 1920, height: 1080 });
    expect(draft.t[0].sg.map((sg: any) => [sg.m.name, sg.s, sg.d, sg.m.transition])).toEqual([
      ['a.jpg', 0, 3250, undefined],
      ['b.jpg', 2750, 3250, { type: 'fade', d: 500 }],
    ]);
  });

  it('accepts the literal user id in place of "me", and a configured static token', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const state = await client.call('GET', `/api/state/nemo_agent/${client.userId}/${client.sessionId}/latest`);
    expect(state.body.code).toBe(0);
    expect(state.body.data.state).toMatchObject({ draft: null, video_infos: [], canvas_config: { width: 1080, height: 1920 } });

    const configured = new ProtocolClient(engine.url);
    configured.token = 'configured-nemo-token';
    expect((await configured.call('GET', '/api/credits/balance/simple')).body).toMatchObject({ code: 0, data: { available: 100 } });
    expect((await configured.createSession()).body.code).toBe(0);
  });

  it('fetches URL uploads through the guard, only from allowlisted private addresses', async () => {
    const server: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      createReadStream(photo).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const photoUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/pictures/shot`;
    const allowing = await startTestEngine({ urlFetchAllowlist: ['127.0.0.1'] });
    try {
      const client = await new ProtocolClient(allowing.url).connect();
      const reply = await client.call('POST', `/api/upload-video/nemo_agent/me/${client.sessionId}`, { urls: [photoUrl], source_type: 'url' });
      expect(reply.body.code).toBe(0);
      expect(reply.body.data.files[0]).toMatchObject({ filename: 'shot', file_type: 'image', width: 640, height: 480 });

      const refusing = await new ProtocolClient(engine.url).connect();
      const refused = await refusing.call('POST', `/api/upload-video/nemo_agent/me/${refusing.sessionId}`, { urls: [photoUrl], source_type: 'url' });
      expect(refused.body.code).toBe(4001);
      expect(refused.body.message).toMatch(/not reachable|URL_FETCH_ALLOWLIST/);
    } finally {
      server.close();
      await allowing.close();
    }
  });

  it('turns a photo stored sideways (EXIF Orientation 6) upright on upload', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const plain = await readFile(await makeTestImage(path.join(engine.dir, 'sideways-source.jpg'), 320, 240));
    const sideways = path.join(engine.dir, 'sideways.jpg');
    await writeFile(sideways, withExifOrientation(plain, 6));
    const [file] = (await client.upload([{ path: sideways }])).body.data.files;
    expect(file).toMatchObject({ filename: 'sideways.jpg', file_type: 'image', width: 240, height: 320 });
  });

  it('answers an instruction without uploads with text only and charges nothing', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const sse = await client.runSse('animate this image');
    expect(sse.events).toHaveLength(1);
    expect(sse.events[0].content.parts[0].text).toMatch(/upload/);
    expect((await client.state()).body.data.state.draft).toBeNull();
    expect((await client.call('GET', '/api/credits/balance/simple')).body.data.available).toBe(100);
  });
});

describe('engine protocol errors', () => {
  let engine: TestEngine;
  let photo: string;

  beforeAll(async () => {
    engine = await startTestEngine({ maxUploadBytes: 20_000, initialCredits: 1 });
    photo = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 160, 120);
  });
  afterAll(() => engine.close());

  it('400 without X-Client-Id; 429 with Retry-After for a second anonymous token of the same client', async () => {
    const client = new ProtocolClient(engine.url);
    const missing = await client.call('POST', '/api/auth/anonymous-token');
    expect(missing.status).toBe(200);
    expect(missing.body.code).toBe(400);

    const clientId = '3b241101-e2bb-4255-8caf-4136c566a962';
    expect((await client.anonymousToken(clientId)).body.code).toBe(0);
    const again = await new ProtocolClient(engine.url).anonymousToken(clientId);
    expect(again.body.code).toBe(429);
    expect(again.headers.get('retry-after')).toBe('30');
  });

  it('1001 for a missing, unknown or made-up token', async () => {
    const client = new ProtocolClient(engine.url);
    expect((await client.call('GET', '/api/credits/balance/simple')).body.code).toBe(1001);
    client.token = 'nmv_usr_not-issued';
    expect((await client.call('GET', '/api/credits/balance/simple')).body.code).toBe(1001);
    expect((await client.createSession()).body.code).toBe(1001);
    const sse = await client.runSse('animate');
    expect(sse.events[0].code).toBe(1001);
  });

  it("1002 for an unknown session or someone else's; /run_sse answers 404 before streaming", async () => {
    const owner = await new ProtocolClient(engine.url).connect();
    const other = await new ProtocolClient(engine.url).connect();
    other.sessionId = owner.sessionId;
    expect((await other.state()).body.code).toBe(1002);
    expect((await other.state('5529798706024415232')).body.code).toBe(1002);
    expect((await other.upload([{ path: photo }])).body.code).toBe(1002);
    const sse = await other.runSse('animate this image');
    expect(sse.status).toBe(404);
    expect(sse.events[0]).toEqual({ detail: 'Session not found' });
  });

  it('4001 for a file type outside the accepted list, and keeps nothing of that upload', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const textFile = path.join(engine.dir, 'notes.txt');
    await writeFile(textFile, 'not a picture');
    const reply = await client.upload([{ path: photo, filename: 'fine.jpg' }, { path: textFile }]);
    expect(reply.body.code).toBe(4001);
    expect(reply.body.message).toMatch(/jpg/);
    expect((await client.state()).body.data.state.video_infos).toEqual([]);
    expect(await readdir(path.join(engine.dir, 'data', 'uploads', client.sessionId))).toEqual([]);
  });

  it('4001 for a file whose content is not media, whatever its extension', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const fake = path.join(engine.dir, 'fake.png');
    await writeFile(fake, 'plain text pretending');
    expect((await client.upload([{ path: fake }])).body.code).toBe(4001);
  });

  it('4002 when a file crosses the upload limit', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const big = await makeTestImage(path.join(engine.dir, 'big.png'), 640, 480);
    const reply = await client.upload([{ path: big }]);
    expect(reply.body.code).toBe(4002);
    expect(await readdir(path.join(engine.dir, 'data', 'uploads', client.sessionId))).toEqual([]);
  });

  it('2001 as an in-stream system error once the credits are spent, and no new draft', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo }]);
    const first = await client.runSse('animate this image into a 2-second video');
    expect(first.events.some((e) => e.content?.parts?.[0]?.functionCall)).toBe(true);
    const firstDraft = (await client.state()).body.data.state.draft;

    const second = await client.runSse('now make it 4 seconds');
    expect(second.status).toBe(200);
    expect(second.events).toHaveLength(1);
    expect(second.events[0]).toMatchObject({ author: 'system', errorCode: '2001', content: { parts: [{ text: expect.stringMatching(/^Error: insufficient credits/) }] } });
    expect((await client.state()).body.data.state.draft).toEqual(firstDraft);
    expect((await client.call('GET', '/api/credits/balance/simple')).body.data).toEqual({ available: 0, frozen: 0, total: 0 });
  });
});

const textsOf = (events: any[]) => events.map((e) => e.content?.parts?.[0]?.text).filter((text) => typeof text === 'string');
const balance = async (client: ProtocolClient) => (await client.call('GET', '/api/credits/balance/simple')).body.data.available;

describe('engine agent over the protocol', () => {
  let engine: TestEngine;
  let photo: string;
  let song: string;

  beforeAll(async () => {
    engine = await startTestEngine({ initialCredits: 100 });
    photo = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 320, 240);
    song = path.join(engine.dir, 'song.wav');
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', song]);
  });
  afterAll(() => engine.close());

  it('edits the first draft with a second instruction in the same session, keeping what it does not mention', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo, filename: 'a.jpg' }, { path: photo, filename: 'b.jpg' }, { path: song, filename: 'song.wav' }]);
    const instruction = composeInstruction(
      'turn these photos into a video with a slow zoom',
      { duration_s: 6, text: [{ text: 'Summer Sale', start_s: 0, end_s: 3, position: 'top' }], audio: { volume: 0.4 } },
      { images: 2, audio: true },
    );
    const first = await client.runSse(instruction);
    expect(first.events.find((e) => e.content?.parts?.[0]?.functionCall).content.parts[0].functionCall.args).toMatchObject({
      operation: 'create_timeline',
      motion: 'zoom-in',
      captions: ['Summer Sale'],
      music: 'song.wav',
    });
    const before = draftSchema.parse((await client.state()).body.data.state.draft);
    expect(before).toMatchObject({ d: 6000, m: { width: 1080, height: 1920 } });
    expect(before.t.map((track) => track.tt)).toEqual([0, 1, 7]);

    const second = await client.runSse('make it 16:9');
    const call = second.events.find((e) => e.content?.parts?.[0]?.functionCall).content.parts[0].functionCall;
    expect(call.args).toMatchObject({ operation: 'update_timeline', changed: ['aspect_ratio'], aspect_ratio: '16:9' });
    expect(textsOf(second.events).at(-1)).toMatch(/^Done: the canvas is now 16:9 \(1920×1080\)/);
    const after = draftSchema.parse((await client.state()).body.data.state.draft);
    expect(after.m).toMatchObject({ width: 1920, height: 1080 });
    expect(after.t.slice(1)).toEqual(before.t.slice(1));
    expect(after.t[0]!.sg.map((sg) => sg.m)).toEqual(before.t[0]!.sg.map((sg) => sg.m));

    await client.runSse('remove the music');
    const withoutMusic = draftSchema.parse((await client.state()).body.data.state.draft);
    expect(withoutMusic.t.map((track) => track.tt)).toEqual([0, 7]);
    expect(withoutMusic.m).toMatchObject({ width: 1920, height: 1080 });
    expect(await balance(client)).toBe(97);
  });

  it('starts a new timeline when new files were uploaded since the draft (the next product of a batch)', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo, filename: 'shoe.jpg' }, { path: song, filename: 'song.wav' }]);
    await client.runSse(composeInstruction('', { duration_s: 4, text: [{ text: 'Shoe', start_s: 0, end_s: 2 }] }, { images: 1, audio: true }));
    const first = draftSchema.parse((await client.state()).body.data.state.draft);
    expect(first.t.map((track) => track.tt)).toEqual([0, 1, 7]);

    await client.upload([{ path: photo, filename: 'bag.jpg' }]);
    const second = await client.runSse(composeInstruction('', { duration_s: 2 }, { images: 1, audio: false }));
    const call = second.events.find((e) => e.content?.parts?.[0]?.functionCall).content.parts[0].functionCall;
    expect(call.args).toMatchObject({ operation: 'create_timeline', media: ['bag.jpg'], captions: [] });
    const next = draftSchema.parse((await client.state()).body.data.state.draft);
    expect(next.d).toBe(2000);
    expect(next.t.map((track) => track.tt)).toEqual([0]);
  });

  it('answers an instruction that changes nothing with text only, and charges nothing for it', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo }]);
    await client.runSse('animate this image');
    const draft = (await client.state()).body.data.state.draft;
    const again = await client.runSse('导出');
    expect(again.events).toHaveLength(1);
    expect(textsOf(again.events)).toEqual([expect.stringMatching(/ready to export/)]);
    expect((await client.state()).body.data.state.draft).toEqual(draft);
    expect(await balance(client)).toBe(99);
  });

  it.each([SKILL_SOURCE.diffusion, SKILL_SOURCE.pixverse])('refuses the generative skill %s: a text, then an engine_capability error; no charge, no draft', async (source) => {
    const client = asSkill(await new ProtocolClient(engine.url).connect(), source);
    await client.upload([{ path: photo }]);
    const sse = await client.runSse('animate this image into a 5-second video');
    expect(sse.status).toBe(200);
    expect(sse.events).toHaveLength(2);
    expect(sse.events[0]).toMatchObject({ author: 'nemo_agent', content: { role: 'model', parts: [{ text: expect.stringMatching(/generate video/) }] } });
    expect(sse.events[1]).toMatchObject({
      author: 'system',
      errorCode: 'engine_capability',
      errorMessage: expect.stringMatching(/set BACKEND_URL to the cloud backend \(https:\/\/mega-api-prod\.nemovideo\.ai\) and NEMO_TOKEN/),
    });
    expect(sse.events[1].content).toBeUndefined();
    expect(sse.events.some((e) => e.content?.parts?.[0]?.functionCall)).toBe(false);
    expect((await client.state()).body.data.state.draft).toBeNull();
    expect(await balance(client)).toBe(100);
  });

  it('refuses a prompt that asks for diffusion and leaves the existing draft untouched', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: photo }]);
    await client.runSse('animate this image');
    const draft = (await client.state()).body.data.state.draft;
    const sse = await client.runSse('now redo it as a diffusion video with cinematic motion');
    expect(sse.events.at(-1)).toMatchObject({ errorCode: 'engine_capability' });
    expect((await client.state()).body.data.state.draft).toEqual(draft);
    expect(await balance(client)).toBe(99);
  });
});
