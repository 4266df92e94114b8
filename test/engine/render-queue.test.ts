import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { ProtocolClient, smallDraft, startTestEngine, type TestEngine } from './protocol-client.ts';

describe("the engine's render queue", () => {
  let engine: TestEngine;
  const redis = createRedis(inject('redisUrl'));

  beforeAll(async () => {
    engine = await startTestEngine({ renderConcurrency: 1 });
  });
  afterAll(async () => {
    await engine?.close();
    redis.disconnect();
  });

  it('keeps the renders no engine has taken yet in <ENGINE_REDIS_PREFIX>:renders:wait, the list an autoscaler reads, and a cancel takes them out', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    const src = (await client.upload([{ path: await makeTestImage(path.join(engine.dir, 'p.jpg'), 320, 240) }])).body.data.files[0].cdn_url;
    const ids = ['render_q1', 'render_q2', 'render_q3'];
    for (const id of ids) expect((await client.startRender(id, smallDraft(src, { width: 720, height: 1280, durationMs: 6000 }))).body.success).toBe(true);
    const waitList = `${engine.redisPrefix}:renders:wait`;
    // one render runs (concurrency 1); the others wait in the list
    let waiting: string[] = [];
    while ((waiting = await redis.lrange(waitList, 0, -1)).length !== 2) await new Promise((r) => setTimeout(r, 20));
    expect(waiting.sort()).toEqual(['render-render_q2', 'render-render_q3']);
    for (const id of ids) expect((await client.call('POST', `/api/render/proxy/lambda/${id}/cancel`)).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
    expect(await redis.llen(waitList)).toBe(0);
    for (const id of ids) expect((await client.poll(id)).body.data).toMatchObject({ status: 'failed', error: 'canceled' });
  });
});
