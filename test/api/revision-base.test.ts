import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACK_TYPE, type Draft } from '../../src/shared/jobs/draft.ts';
import { makeSolidImage, middleColour } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestServiceOptions } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };
const SMALL = { duration_s: 2, aspect_ratio: '1:1', resolution: '720p', fps: 24 };
const caption = (text: string) => ({ text, start_s: 0, end_s: 2 });

/** The draft with its captions' texts replaced, or its motion intensity: what one revision should change. */
function withCaptions(draft: Draft, ...texts: string[]): Draft {
  const copy = structuredClone(draft);
  const track = copy.t.find((t) => t.tt === TRACK_TYPE.text);
  if (!track || track.tt !== TRACK_TYPE.text) throw new Error('the draft has no text track');
  track.sg = texts.map((text) => ({ ...track.sg[0]!, m: { ...track.sg[0]!.m, text } }));
  return copy;
}
function withIntensity(draft: Draft, intensity: number): Draft {
  const copy = structuredClone(draft);
  for (const track of copy.t) if (track.tt === TRACK_TYPE.video) for (const sg of track.sg) sg.m.intensity = intensity;
  return copy;
}
const captionsOf = (draft: Draft | undefined) => draft?.t.flatMap((t) => (t.tt === TRACK_TYPE.text ? t.sg.map((sg) => sg.m.text) : []));

/** A service whose engine runs with `engine`, with red, blue and green photos uploaded, and the calls these tests make. */
async function revisionRig(engine: TestServiceOptions['engine']) {
  const service = await startTestService({ engine: { noTextRate: 0, agentDelayMs: 0, ...engine } });
  const uploads: Record<string, string> = {};
  for (const colour of ['red', 'blue', 'green']) {
    const file = await makeSolidImage(path.join(service.dir, `${colour}.png`), colour);
    const form = new FormData();
    form.append('file', new Blob([await readFile(file)], { type: 'image/png' }), `${colour}.png`);
    const reply = (await (await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form })).json()) as { data: { id: string }[] };
    uploads[colour] = `upload:${reply.data[0]!.id}`;
  }
  const json = { ...auth, 'content-type': 'application/json' };
  return {
    service,
    draftOf: async (id: string) => (await service.records.get(id))?.checkpoint.draft as Draft,
    /** POST /v1/jobs/:id/revisions, followed to its end */
    async revision(id: string, body: unknown): Promise<Record<string, any>> {
      const created = await fetch(`${service.url}/v1/jobs/${id}/revisions`, { method: 'POST', headers: json, body: JSON.stringify(body) });
      expect(created.status).toBe(202);
      return waitForJob(service.url, ((await created.json()) as { id: string }).id);
    },
    /** a red product, then a blue one with other options, in one batch */
    async redThenBlue(): Promise<Record<string, any>[]> {
      const items = [
        { images: [uploads.red], options: { ...SMALL, text: [caption('Red Shoe')] } },
        { images: [uploads.blue], options: { ...SMALL, motion: 'zoom-in', text: [caption('Blue Shoe')] } },
      ];
      const created = (await (await fetch(`${service.url}/v1/batches`, { method: 'POST', headers: json, body: JSON.stringify({ items }) })).json()) as { job_ids: string[] };
      const jobs = await Promise.all(created.job_ids.map((id) => waitForJob(service.url, id)));
      expect(jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
      return jobs;
    },
    async singleJob(colour: string, text: string): Promise<Record<string, any>> {
      const job = await waitForJob(service.url, ((await (await postJob(service.url, { images: [uploads[colour]], options: { ...SMALL, text: [caption(text)] } })).json()) as { id: string }).id);
      expect(job.status).toBe('succeeded');
      return job;
    },
    /** the mean colour of the middle of the job's video, one second in */
    async videoColour(job: Record<string, any>): Promise<[number, number, number]> {
      const file = path.join(service.dir, `${job.id}.mp4`);
      await writeFile(file, Buffer.from(await (await fetch(job.result.video_url, { headers: auth })).arrayBuffer()));
      return middleColour(file, 1);
    },
  };
}

/**
 * A revision edits its parent's timeline and nothing else, whatever the
 * session did since: a batch's later items, other revisions of the same parent.
 */
describe('a revision edits exactly its parent', () => {
  let rig: Awaited<ReturnType<typeof revisionRig>>;

  beforeAll(async () => {
    rig = await revisionRig({});
  });
  afterAll(async () => {
    await rig?.service.close();
  });

  async function revise(id: string, body: unknown): Promise<Record<string, any>> {
    const job = await rig.revision(id, body);
    expect(job).toMatchObject({ status: 'succeeded', parent_id: id });
    return job;
  }

  it("revising item 1 of a two-item batch keeps item 1's photo and shows the new caption once", async () => {
    const [first] = await rig.redThenBlue();
    const [red] = await rig.videoColour(first!);
    expect(red).toBeGreaterThan(200);

    const revision = await revise(first!.id, { prompt: 'change the text to "Winter Sale"' });
    const [r, g, b] = await rig.videoColour(revision);
    expect({ r: r > 200, g: g < 50, b: b < 50 }).toEqual({ r: true, g: true, b: true });
    expect(captionsOf(await rig.draftOf(revision.id))).toEqual(['Winter Sale']);
    expect(await rig.draftOf(revision.id)).toEqual(withCaptions(await rig.draftOf(first!.id), 'Winter Sale'));

    // a caption given as an option replaces the parent's, once
    const byOption = await revise(first!.id, { options: { text: [caption('Spring Sale')] } });
    expect(captionsOf(await rig.draftOf(byOption.id))).toEqual(['Spring Sale']);
    expect(await rig.draftOf(byOption.id)).toEqual(withCaptions(await rig.draftOf(first!.id), 'Spring Sale'));
  });

  it('two revisions of one parent each build on the parent only, one after the other or side by side', async () => {
    const parent = await rig.singleJob('green', 'Summer Sale');
    const base = await rig.draftOf(parent.id);
    const autumn = await revise(parent.id, { prompt: 'change the text to "Autumn Sale"' });
    const slower = await revise(parent.id, { prompt: 'make the zoom slower' });
    expect(await rig.draftOf(autumn.id)).toEqual(withCaptions(base, 'Autumn Sale'));
    expect(await rig.draftOf(slower.id)).toEqual(withIntensity(base, 0.08));

    const [faster, renamed] = await Promise.all([revise(parent.id, { prompt: 'make the zoom faster' }), revise(parent.id, { prompt: 'change the text to "Last Call"' })]);
    expect(await rig.draftOf(faster.id)).toEqual(withIntensity(base, 0.3));
    expect(await rig.draftOf(renamed.id)).toEqual(withCaptions(base, 'Last Call'));
  });

  it('a revision of a revision builds on its parent revision, not on what the session did last', async () => {
    const root = await rig.singleJob('green', 'Summer Sale');
    const base = await rig.draftOf(root.id);
    const winter = await revise(root.id, { prompt: 'change the text to "Winter Sale"' });
    await revise(root.id, { prompt: 'make the zoom faster' });
    const slowerWinter = await revise(winter.id, { prompt: 'make the zoom slower' });
    expect(await rig.draftOf(slowerWinter.id)).toEqual(withIntensity(withCaptions(base, 'Winter Sale'), 0.08));
    const [r, g, b] = await rig.videoColour(slowerWinter);
    expect({ r: r < 50, g: g > 100, b: b < 50 }).toEqual({ r: true, g: true, b: true });
  });
});

describe('a revision on a backend that does not restore the draft', () => {
  let rig: Awaited<ReturnType<typeof revisionRig>>;

  beforeAll(async () => {
    rig = await revisionRig({ dialect: { stateDelta: 'ignored' } });
  });
  afterAll(async () => {
    await rig?.service.close();
  });

  it("fails with revision_wrong_timeline instead of delivering another product's photo", async () => {
    const [first] = await rig.redThenBlue();
    const revision = await rig.revision(first!.id, { prompt: 'change the text to "Winter Sale"' });
    expect(revision).toMatchObject({ status: 'failed', result: null, error: { code: 'revision_wrong_timeline' } });
  });
});
