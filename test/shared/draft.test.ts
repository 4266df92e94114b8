import { describe, expect, it } from 'vitest';
import { isExportable } from '../../src/shared/jobs/backend-draft.ts';
import { draftSchema, timelineSummary, type Draft } from '../../src/shared/jobs/draft.ts';

const draft: Draft = draftSchema.parse({
  d: 10_000,
  m: { width: 1920, height: 1080, fps: 30 },
  t: [
    { tt: 0, sg: [{ s: 0, d: 10_000, src: 'https://cdn/x.mp4', m: { name: 'city timelapse' } }] },
    { tt: 1, sg: [{ s: 0, d: 10_000, src: 'https://cdn/lofi.mp3', m: { name: 'Lo-fi', volume: 0.35 } }] },
    { tt: 7, sg: [{ s: 0, d: 3000, m: { text: 'Urban Dreams' } }] },
  ],
});

describe('the draft model', () => {
  it("summarizes a timeline in the seeds' format", () => {
    expect(timelineSummary(draft)).toBe(
      'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)',
    );
  });

  it('fills segment defaults and knows when a draft can be exported', () => {
    const segment = draft.t[0]?.sg[0] as { m: { motion: string; intensity: number } };
    expect(segment.m).toMatchObject({ motion: 'ken-burns', intensity: 0.15, fit: 'cover', background: '#000000' });
    expect(isExportable(draft)).toBe(true);
    expect(isExportable({ ...draft, t: [{ tt: 0, sg: [] }] })).toBe(false);
  });

  it('rejects a draft without a size or with an unknown track type', () => {
    expect(draftSchema.safeParse({ d: 1000, m: {}, t: [] }).success).toBe(false);
    expect(draftSchema.safeParse({ d: 1000, m: { width: 100, height: 100 }, t: [{ tt: 3, sg: [] }] }).success).toBe(false);
  });
});
