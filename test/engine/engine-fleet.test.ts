import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropEngineKeys, freePort, isRendering, spawnEngine, stopEngine, type EngineProcess } from '../helpers/engine-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { ProtocolClient, smallDraft } from './protocol-client.ts';

/** The engine whose ffmpeg renders now, if any. */
async function runningOn(): Promise<EngineProcess | undefined> {
  for (const engine of engines) if (await isRendering(engine)) return engine;
  return undefined;
}

/** A client of `engine` with the token and session of `client`. */
const sameSession = (engine: EngineProcess, client: ProtocolClient) =>
  Object.assign(new ProtocolClient(engine.url), { token: client.token, userId: client.userId, sessionId: client.sessionId });

/** The same URL on another engine of the backend. */
const on = (engine: EngineProcess, url: string) => `${engine.url}${new URL(url).pathname}`;

let engines: EngineProcess[];

describe('two engine processes on one Redis prefix and one folder are one backend', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-fleet-'));
    const first = await spawnEngine(await freePort(), path.join(dir, 'engine'));
    const second = await spawnEngine(await freePort(), path.join(dir, 'engine'), { ENGINE_REDIS_PREFIX: first.redisPrefix });
    engines = [first, second];
  });
  afterAll(async () => {
    for (const engine of engines ?? []) await stopEngine(engine);
    if (engines?.[0]) await dropEngineKeys(engines[0].redisPrefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers any session on any engine: upload on one, instruction on the other, render started on one, polled and downloaded on the other', async () => {
    const [first, second] = engines as [EngineProcess, EngineProcess];
    const one = await new ProtocolClient(first.url).connect();
    const two = sameSession(second, one);

    const uploaded = await one.upload([{ path: await makeTestImage(path.join(dir, 'p.jpg'), 320, 240) }]);
    expect(uploaded.body.code, JSON.stringify(uploaded.body)).toBe(0);
    const cdnUrl = uploaded.body.data.files[0].cdn_url as string;
    // a file one engine took is served by the other
    const served = await fetch(on(second, cdnUrl));
    expect([served.status, served.headers.get('content-type')]).toEqual([200, 'image/jpeg']);

    const run = await two.runSse('a 1 second square zoom-in clip');
    expect(run.events.some((event) => event.content?.parts?.some((part: any) => part.functionResponse?.response?.status === 'success'))).toBe(true);
    const state = await one.state();
    expect(state.body.data.state.draft.t[0].sg).toHaveLength(1);
    expect((await one.call('GET', '/api/credits/balance/simple')).body.data.available).toBe(99);

    expect((await one.startRender('render_fleet', state.body.data.state.draft)).body).toMatchObject({ success: true, data: { status: 'pending' } });
    // the id is taken for the whole backend
    expect((await two.startRender('render_fleet', state.body.data.state.draft)).status).toBe(409);
    const done = await two.waitForRender('render_fleet');
    expect(done.data.status).toBe('completed');
    const download = await fetch(`${second.url}/api/render/proxy/render_fleet/download`, { headers: two.headers() });
    expect([download.status, download.headers.get('content-type')]).toEqual([200, 'video/mp4']);
    const bytes = (await download.arrayBuffer()).byteLength;
    expect(bytes).toBeGreaterThan(1000);
    expect((await (await fetch(on(first, done.data.outputUrl))).arrayBuffer()).byteLength).toBe(bytes);
  });

  it('cancels on one engine a render that waits on the other, and arms a fault for the whole backend', async () => {
    const [first, second] = engines as [EngineProcess, EngineProcess];
    const one = await new ProtocolClient(first.url).connect();
    const src = (await one.upload([{ path: path.join(dir, 'p.jpg') }])).body.data.files[0].cdn_url;
    const armed = await fetch(`${first.url}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'render-delay', seconds: 60 }) });
    expect(armed.status).toBe(200);
    expect(((await (await fetch(`${second.url}/_engine/faults`)).json()) as any).data.armed).toEqual([{ kind: 'render-delay', seconds: 60, times: 1 }]);
    const two = sameSession(second, one);
    expect((await two.startRender('render_waiting', smallDraft(src))).body.success).toBe(true);
    const canceled = await one.call('POST', '/api/render/proxy/lambda/render_waiting/cancel');
    expect(canceled.body).toMatchObject({ success: true, data: { status: 'failed', error: 'canceled' } });
    expect((await two.poll('render_waiting')).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
  });

  /** A 6 s 720p render of a new session, once an engine's ffmpeg runs it. */
  async function longRender(id: string): Promise<{ one: ProtocolClient; running: EngineProcess }> {
    const one = await new ProtocolClient(engines[0]!.url).connect();
    const src = (await one.upload([{ path: path.join(dir, 'p.jpg') }])).body.data.files[0].cdn_url;
    expect((await one.startRender(id, smallDraft(src, { width: 720, height: 1280, durationMs: 6000 }))).body.success).toBe(true);
    let running: EngineProcess | undefined;
    while (!(running = await runningOn())) await new Promise((r) => setTimeout(r, 20));
    return { one, running };
  }

  it('stops the ffmpeg of a render running on one engine when it is canceled on the other', async () => {
    const { one, running } = await longRender('render_canceled_elsewhere');
    const other = sameSession(engines.find((engine) => engine !== running)!, one);
    expect((await other.call('POST', '/api/render/proxy/lambda/render_canceled_elsewhere/cancel')).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
    while (await isRendering(running)) await new Promise((r) => setTimeout(r, 20));
    expect((await one.poll('render_canceled_elsewhere')).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
  });

  it('hands a render back to the queue when the engine running it is stopped (SIGTERM): the other engine finishes it', async () => {
    const { one, running } = await longRender('render_handed_back');
    await stopEngine(running);
    engines = engines.filter((engine) => engine !== running);
    const other = sameSession(engines[0]!, one);
    const done = await other.waitForRender('render_handed_back');
    expect(done.data).toMatchObject({ status: 'completed', progress: 100 });
    const listed = ((await (await fetch(`${engines[0]!.url}/_engine/renders`)).json()) as any).data.renders.find((r: any) => r.id === 'render_handed_back');
    expect(listed.runs).toBe(2);
  });
});
