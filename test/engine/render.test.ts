import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { grayFrame, makeTestImage, meanDifference } from '../helpers/media.ts';
import { ProtocolClient, smallDraft, startTestEngine, type TestEngine } from './protocol-client.ts';

describe('engine renders', () => {
  let engine: TestEngine;
  let client: ProtocolClient;
  let src: string;

  beforeAll(async () => {
    engine = await startTestEngine();
    client = await new ProtocolClient(engine.url).connect();
    const photo = await makeTestImage(path.join(engine.dir, 'photo.jpg'), 640, 480);
    src = (await client.upload([{ path: photo }])).body.data.files[0].cdn_url;
  });
  afterAll(() => engine.close());

  async function download(url: string, name: string): Promise<string> {
    const response = await fetch(url, { headers: client.headers() });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const file = path.join(engine.dir, name);
    await writeFile(file, bytes);
    return file;
  }

  async function expectZoomVisible(file: string): Promise<void> {
    expect(meanDifference(await grayFrame(file, 0), await grayFrame(file, -0.05))).toBeGreaterThan(2);
  }

  it('renders a draft to an H.264 High, yuv420p, BT.709 MP4 of the exact size and duration, with visible motion', async () => {
    const started = await client.startRender('render_small', smallDraft(src));
    expect(started.body).toEqual({ success: true, data: { id: 'render_small', status: 'pending', progress: 5 } });

    const done = await client.waitForRender('render_small');
    expect(done).toMatchObject({ success: true, data: { id: 'render_small', status: 'completed', progress: 100, outputUrl: expect.stringMatching(/\/renders\/.+\.mp4$/) } });

    const file = await download(done.data.outputUrl, 'small.mp4');
    const media = await probeMedia(file);
    expect(media.video).toMatchObject({ codec: 'h264', profile: 'High', pixFmt: 'yuv420p', colorSpace: 'bt709', width: 180, height: 320, fps: 30 });
    expect(Math.abs(media.durationS - 2)).toBeLessThanOrEqual(0.1);
    await expectZoomVisible(file);

    // the fallback download gives the same file
    const fallback = await download(`${engine.url}/api/render/proxy/render_small/download`, 'fallback.mp4');
    expect((await probeMedia(fallback)).sizeBytes).toBe(media.sizeBytes);
  });

  it('renders the draft the agent made from an instruction', async () => {
    const agentClient = await new ProtocolClient(engine.url).connect();
    const photo = await makeTestImage(path.join(engine.dir, 'agent.jpg'), 320, 240);
    await agentClient.upload([{ path: photo }]);
    await agentClient.runSse('Animate this image with a slow zoom-in. Duration: 1 seconds. Aspect ratio 4:5 at 720p, 25 fps.');
    const { draft } = (await agentClient.state()).body.data.state;
    await agentClient.startRender('render_agent', draft);
    const done = await agentClient.waitForRender('render_agent');
    const media = await probeMedia(await download(done.data.outputUrl, 'agent.mp4'));
    expect(media.video).toMatchObject({ width: 720, height: 900, fps: 25 });
    expect(Math.abs(media.durationS - 1)).toBeLessThanOrEqual(0.1);
  });

  it('concatenates segments in order and moves each one', async () => {
    const draft = smallDraft(src, { durationMs: 2000, motion: 'pan-left' });
    draft.t[0]!.sg = [
      { s: 0, d: 1000, src, m: { name: 'a', motion: 'static', intensity: 0.15 } },
      { s: 1000, d: 1000, src, m: { name: 'b', motion: 'pan-left', intensity: 0.3 } },
    ];
    await client.startRender('render_segments', draft);
    const done = await client.waitForRender('render_segments');
    const file = await download(done.data.outputUrl, 'segments.mp4');
    expect(Math.abs((await probeMedia(file)).durationS - 2)).toBeLessThanOrEqual(0.1);
    // the static first second does not move; the panning second does
    expect(meanDifference(await grayFrame(file, 0), await grayFrame(file, 0.9))).toBeLessThan(0.5);
    expect(meanDifference(await grayFrame(file, 1.0), await grayFrame(file, 1.95))).toBeGreaterThan(2);
  });

  it('402 without the attribution headers', async () => {
    const noAttribution = { 'x-skill-source': '', 'x-skill-version': '', 'x-skill-platform': '' };
    const reply = await client.startRender('render_402', smallDraft(src), noAttribution);
    expect(reply.status).toBe(402);
    expect(reply.body).toMatchObject({ success: false, code: 402, error: expect.stringMatching(/attribution/) });
  });

  it('refuses an invalid draft, a draft showing files of another session, and a duplicate id', async () => {
    const invalid = await client.startRender('render_invalid', { t: [], d: 1000, m: { width: 3 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ success: false, error: expect.stringMatching(/invalid draft/) });

    const stranger = await new ProtocolClient(engine.url).connect();
    const foreign = await stranger.startRender('render_foreign', smallDraft(src));
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatch(/not a file of session/);

    const first = await client.startRender('render_twice', smallDraft(src, { durationMs: 500 }));
    expect(first.body.success).toBe(true);
    const again = await client.startRender('render_twice', smallDraft(src, { durationMs: 500 }));
    expect(again.body).toMatchObject({ success: false, error: 'render id render_twice already exists' });
    expect((await client.waitForRender('render_twice')).data.status).toBe('completed');
  });

  it("answers 404 for a render that is not the caller's, and 1001 for a bad token", async () => {
    const stranger = await new ProtocolClient(engine.url).connect();
    const reply = await stranger.poll('render_small');
    expect(reply.status).toBe(404);
    expect(reply.body.success).toBe(false);
    const anonymous = new ProtocolClient(engine.url);
    expect((await anonymous.poll('render_small')).body).toMatchObject({ success: false, code: 1001 });
  });

  it('cancels a running render (its ffmpeg stops, no output) and a queued one', async () => {
    const long = smallDraft(src, { width: 1080, height: 1920, durationMs: 60_000 });
    await client.startRender('render_long', long);
    await client.startRender('render_queued', smallDraft(src));
    await vi.waitFor(async () => expect((await client.poll('render_long')).body.data.status).toBe('processing'));
    expect((await client.poll('render_queued')).body.data.status).toBe('pending');

    const queued = await client.call('POST', '/api/render/proxy/lambda/render_queued/cancel');
    expect(queued.body).toMatchObject({ success: true, data: { status: 'failed', error: 'canceled' } });
    const running = await client.call('POST', '/api/render/proxy/lambda/render_long/cancel');
    expect(running.body).toMatchObject({ success: true, data: { status: 'failed', error: 'canceled' } });
    expect((await client.poll('render_long')).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
    // the partial output goes away once ffmpeg is gone
    const rendersDir = path.join(engine.dir, 'data', 'renders');
    await vi.waitFor(async () => expect((await readdir(rendersDir)).filter((f) => f.endsWith('.part'))).toEqual([]), { timeout: 10_000 });

    const twice = await client.call('POST', '/api/render/proxy/lambda/render_long/cancel');
    expect(twice.status).toBe(409);
    const download = await client.call('GET', '/api/render/proxy/render_long/download');
    expect(download.status).toBe(409);
  });

  it('renders a full 1080×1920, 5 s zoom-in', async () => {
    await client.startRender('render_full', smallDraft(src, { width: 1080, height: 1920, durationMs: 5000 }));
    const done = await client.waitForRender('render_full');
    expect(done.data.status).toBe('completed');
    const file = await download(done.data.outputUrl, 'full.mp4');
    const media = await probeMedia(file);
    expect(media.video).toMatchObject({ codec: 'h264', profile: 'High', pixFmt: 'yuv420p', width: 1080, height: 1920, frames: 150 });
    expect(Math.abs(media.durationS - 5)).toBeLessThanOrEqual(0.1);
    await expectZoomVisible(file);
  });
});
