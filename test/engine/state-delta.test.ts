import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSolidImage } from '../helpers/media.ts';
import { ProtocolClient, startTestEngine, type TestEngine } from './protocol-client.ts';

/** ADK's `state_delta` on /run_sse: `{ draft }` makes one of the session's timelines the one the instruction edits. */
describe('engine: a run that restores a draft', () => {
  let engine: TestEngine;
  let red: string;
  let blue: string;

  beforeAll(async () => {
    engine = await startTestEngine();
    red = await makeSolidImage(path.join(engine.dir, 'red.png'), 'red');
    blue = await makeSolidImage(path.join(engine.dir, 'blue.png'), 'blue');
  });
  afterAll(async () => {
    await engine?.close();
  });

  const draftOf = async (client: ProtocolClient) => (await client.state()).body.data.state.draft;
  const texts = (draft: any) => draft.t.filter((t: any) => t.tt === 7).flatMap((t: any) => t.sg.map((sg: any) => sg.m.text));
  const names = (draft: any) => draft.t.filter((t: any) => t.tt === 0).flatMap((t: any) => t.sg.map((sg: any) => sg.m.name));

  it("edits the restored timeline with its own pictures and request, not the session's latest", async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: red }]);
    await client.runSse('Animate this image. Duration: 2 seconds. Add the text "Red" from 0 s to 2 s.');
    const first = await draftOf(client);
    await client.upload([{ path: blue }]);
    await client.runSse('Animate this image. Motion: zoom-in. Add the text "Blue" from 0 s to 4 s.');

    const reply = await client.runSse('change the text to "Sale".', { state_delta: { draft: first } });
    expect(reply.status).toBe(200);
    const revised = await draftOf(client);
    expect({ names: names(revised), texts: texts(revised), d: revised.d, motion: revised.t[0].sg[0].m.motion }).toEqual({ names: ['red.png'], texts: ['Sale'], d: 2000, motion: 'ken-burns' });
  });

  it('refuses, before the stream and without charging, a draft that is not one of the session\'s timelines', async () => {
    const client = await new ProtocolClient(engine.url).connect();
    await client.upload([{ path: red }]);
    await client.runSse('Animate this image. Duration: 2 seconds.');
    const draft = await draftOf(client);
    const balance = async () => (await client.call('GET', '/api/credits/balance/simple')).body.data.available;
    const before = await balance();

    const foreign = await client.runSse('make it slower', { state_delta: { draft: { ...draft, d: 3000 } } });
    expect(foreign.status).toBe(422);
    expect(foreign.events[0].detail).toMatch(/not a timeline of this session/);
    const broken = await client.runSse('make it slower', { state_delta: { draft: { t: 'no' } } });
    expect(broken.status).toBe(422);
    expect(broken.events[0].detail).toMatch(/not a draft/);
    expect(await balance()).toBe(before);
    expect(await draftOf(client)).toEqual(draft);
  });
});
