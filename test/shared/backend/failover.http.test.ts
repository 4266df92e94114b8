import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skillForPreset } from '../../../src/shared/backend/attribution.ts';
import { BackendUrls } from '../../../src/shared/backend/backend-urls.ts';
import { BackendClient } from '../../../src/shared/backend/client.ts';
import { ReplyAccumulator } from '../../../src/shared/backend/reply-collector.ts';
import { registry } from '../../../src/shared/infra/metrics/registry.ts';
import { probeMedia } from '../../../src/shared/media/ffprobe.ts';
import { deadUrl, startDroppingPeer, startUnavailablePeer, type CountingPeer } from '../../helpers/backend-peers.ts';
import { makeTestImage } from '../../helpers/media.ts';
import { startTestEngine, type TestEngine } from '../../engine/protocol-client.ts';
import { failure } from './backend-failure.ts';

const skill = skillForPreset('motion', '1.0.0', 'unknown');
const INSTRUCTION = 'Animate this image with a slow zoom-in. Duration: 1 seconds. Aspect ratio 1:1 at 720p.';

async function failovers(url: string): Promise<number> {
  const metric = await registry.getSingleMetric('i2v_backend_failovers_total')?.get();
  return metric?.values.find((v) => v.labels.url === url)?.value ?? 0;
}

async function engineSessions(engine: TestEngine): Promise<{ id: string; instructions: number }[]> {
  const body = (await (await fetch(`${engine.url}/_engine/stats`)).json()) as { data: { sessions: { id: string; instructions: number }[] } };
  return body.data.sessions;
}

/** A token and a session on the engine, through `client`'s URLs. */
async function connect(client: BackendClient): Promise<{ client: BackendClient; sessionId: string }> {
  const { token } = await client.anonymousToken(crypto.randomUUID());
  const withToken = client.withToken(token);
  const { sessionId } = await withToken.createSession();
  return { client: withToken, sessionId };
}

describe('a backend client with several base URLs, against the real engine', () => {
  let engine: TestEngine;
  let unavailable: CountingPeer;
  let dropping: CountingPeer;
  let photo: string;

  beforeAll(async () => {
    engine = await startTestEngine({ faults: true });
    unavailable = await startUnavailablePeer();
    dropping = await startDroppingPeer();
    photo = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 320, 240);
  });
  afterAll(async () => {
    await engine?.close();
    await unavailable?.close();
    await dropping?.close();
  });

  it('runs the whole lifecycle with a refused port listed first, each call moved on to the engine', async () => {
    const dead = await deadUrl();
    // no cooldown: every call tries the dead URL first, so every endpoint meets it
    const urls = new BackendUrls(`${dead},${engine.url}`, { cooldownMs: 0 });
    const before = await failovers(dead);
    const { client, sessionId } = await connect(new BackendClient({ baseUrl: urls, skill }));
    const [file] = await client.uploadFiles(sessionId, [{ path: photo, filename: 'photo.jpg' }]);
    expect(file).toMatchObject({ fileType: 'image', width: 320 });
    const reply = new ReplyAccumulator();
    for await (const event of client.runSse(sessionId, INSTRUCTION)) reply.add(event);
    expect(reply.result().error).toBeUndefined();
    const { state } = await client.getState(sessionId);
    expect((await client.creditsBalance()).available).toBeGreaterThanOrEqual(0);
    let render = await client.startRender({ id: 'render_failover', sessionId, draft: state.draft });
    while (render.status !== 'completed' && render.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 100));
      render = await client.getRender(render.id);
    }
    expect(render.status).toBe('completed');
    const target = path.join(engine.dir, 'out.mp4');
    await client.downloadToFile(render.outputUrl as string, target, { maxBytes: 50_000_000 });
    expect((await probeMedia(target)).video).toMatchObject({ codec: 'h264', width: 720 });
    // token, session, upload, run_sse, state, credits, render start, at least one poll, download
    expect((await failovers(dead)) - before).toBeGreaterThanOrEqual(8);
    expect((await engineSessions(engine)).find((s) => s.id === sessionId)?.instructions).toBe(1);
  });

  it('reads a link the backend handed out on a listed URL that is down from another listed URL', async () => {
    const dead = await deadUrl();
    const client = new BackendClient({ baseUrl: `${engine.url},${dead}`, skill });
    const { client: withToken, sessionId } = await connect(client);
    const [file] = await withToken.uploadFiles(sessionId, [{ path: photo, filename: 'photo.jpg' }]);
    // the file's link, as an engine that has since died at `dead` would have handed it out
    const link = new URL(new URL(file!.cdnUrl).pathname, dead).href;
    const target = path.join(engine.dir, 'copy.jpg');
    expect((await withToken.downloadToFile(link, target, { maxBytes: 10_000_000 })).bytes).toBeGreaterThan(0);
    // a dead address the backend does not list is not swapped for one of its own
    const foreign = `http://localhost:${new URL(dead).port}${new URL(file!.cdnUrl).pathname}`;
    expect((await failure(withToken.downloadToFile(foreign, target, { maxBytes: 10_000_000 }))).code).toBe('network');
  });

  it('skips a URL answering 503 for its cooldown, then tries it again once (half-open)', async () => {
    let now = 1_000_000;
    const urls = new BackendUrls(`${unavailable.url},${engine.url}`, { cooldownMs: 10_000, now: () => now });
    const client = new BackendClient({ baseUrl: urls, skill });
    const hitsBefore = unavailable.hits();
    const { client: withToken } = await connect(client);
    for (let i = 0; i < 4; i++) await withToken.creditsBalance();
    // the first call met the 503 and moved on; the next five went to the engine alone
    expect(unavailable.hits() - hitsBefore).toBe(1);
    now += 10_000;
    await withToken.creditsBalance();
    expect(unavailable.hits() - hitsBefore).toBe(2);
    // it failed again: left out twice as long
    now += 10_000;
    await withToken.creditsBalance();
    expect(unavailable.hits() - hitsBefore).toBe(2);
    // over: of three calls at once, one tries it while the others keep away
    now += 10_000;
    await Promise.all([withToken.creditsBalance(), withToken.creditsBalance(), withToken.creditsBalance()]);
    expect(unavailable.hits() - hitsBefore).toBe(3);
  });

  it('fails as with one URL when every listed URL is down', async () => {
    const dead = await deadUrl();
    // each URL is tried once, and the last one's error is the call's: the 503 after the refused port, and the other way round
    expect((await failure(new BackendClient({ baseUrl: `${dead},${unavailable.url}`, skill }).anonymousToken(crypto.randomUUID()))).code).toBe(503);
    expect((await failure(new BackendClient({ baseUrl: `${unavailable.url},${dead}`, skill }).creditsBalance())).code).toBe('network');
    expect((await failure(new BackendClient({ baseUrl: dead, skill }).creditsBalance())).code).toBe('network');
  });

  it('sends a read again after a peer took it and dropped the connection, but never an instruction (it is charged)', async () => {
    const { token } = await new BackendClient({ baseUrl: engine.url, skill }).anonymousToken(crypto.randomUUID());
    const { sessionId } = await new BackendClient({ baseUrl: engine.url, skill, token }).createSession();
    // no cooldown: every call goes to the dropping peer first
    const through = new BackendClient({ baseUrl: new BackendUrls(`${dropping.url},${engine.url}`, { cooldownMs: 0 }), skill, token });
    const hits = dropping.hits();
    expect((await through.getState(sessionId)).sessionId).toBe(sessionId);
    expect(dropping.hits()).toBe(hits + 1);
    const error = await failure(
      (async () => {
        for await (const event of through.runSse(sessionId, INSTRUCTION)) void event;
      })(),
    );
    expect(error.code).toBe('network');
    expect(dropping.hits()).toBe(hits + 2);
    // the engine never got it: the worker's instruct stage settles it as "maybe sent" (instruction_uncertain logic)
    expect((await engineSessions(engine)).find((s) => s.id === sessionId)?.instructions).toBe(0);
  });
});
