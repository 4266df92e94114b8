import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDraft, resolveSettings, segmentSpans, type AgentRequest, type DraftPicture } from '../../src/shared/agent/index.ts';
import { draftSchema, timelineSummary, type Draft } from '../../src/shared/jobs/draft.ts';
import { outputSize } from '../../src/shared/jobs/job-options.ts';

const photos = (count: number): DraftPicture[] =>
  Array.from({ length: count }, (_, index) => ({ src: `http://e/files/1/${index}.jpg`, filename: `photo-${index}.jpg`, kind: 'image' }));
const MUSIC = { src: 'http://e/files/1/song.mp3', filename: 'song.mp3' };

function draftFor(request: AgentRequest, pictures = photos(1), music?: typeof MUSIC): Draft {
  const draft = buildDraft(resolveSettings(request, pictures.length), pictures, music);
  expect(draftSchema.parse(draft)).toEqual(draft);
  return draft;
}

const videoSegments = (draft: Draft) => draft.t.find((track) => track.tt === 0)!.sg as Extract<Draft['t'][number], { tt: 0 }>['sg'];
const trackOf = <T extends 0 | 1 | 7>(draft: Draft, tt: T) => draft.t.find((track) => track.tt === tt) as Extract<Draft['t'][number], { tt: T }> | undefined;

describe('segmentSpans', () => {
  it('fills the duration exactly, each segment overlapping the previous by the transition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 60_000 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 2000 }), (total, count, transition) => {
        const { spans, overlapMs } = segmentSpans(total, count, transition);
        expect(spans).toHaveLength(count);
        expect(spans[0]!.s).toBe(0);
        expect(spans.at(-1)!.s + spans.at(-1)!.d).toBe(total);
        for (let i = 1; i < count; i++) expect(spans[i]!.s).toBe(spans[i - 1]!.s + spans[i - 1]!.d - overlapMs);
        for (const span of spans) expect(span.d).toBeGreaterThanOrEqual(Math.max(1, 2 * overlapMs));
        expect(overlapMs).toBeLessThanOrEqual(count > 1 ? transition : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the asked transition when the segments are long enough, and shortens it when not', () => {
    expect(segmentSpans(10_000, 3, 500)).toEqual({ overlapMs: 500, spans: [{ s: 0, d: 3666 }, { s: 3166, d: 3666 }, { s: 6332, d: 3668 }] });
    expect(segmentSpans(1000, 9, 500).overlapMs).toBe(100);
    expect(segmentSpans(5000, 1, 500)).toEqual({ overlapMs: 0, spans: [{ s: 0, d: 5000 }] });
  });
});

describe('buildDraft', () => {
  it('sizes the canvas from ratio and resolution', () => {
    expect(outputSize('9:16', '1080p')).toEqual({ width: 1080, height: 1920 });
    expect(outputSize('4:5', '720p')).toEqual({ width: 720, height: 900 });
    expect(draftFor({ aspect_ratio: '16:9', resolution: '720p', fps: 24, quality: 'high' }).m).toEqual({
      title: 'photo-0.jpg',
      width: 1280,
      height: 720,
      fps: 24,
      quality: 'high',
    });
  });

  it('fills every default: 5 s, a Ken Burns move at normal intensity, cover, 9:16 at 1080p, 30 fps', () => {
    expect(draftFor({})).toEqual({
      d: 5000,
      m: { title: 'photo-0.jpg', width: 1080, height: 1920, fps: 30, quality: 'standard' },
      t: [
        {
          tt: 0,
          sg: [{ s: 0, d: 5000, src: 'http://e/files/1/0.jpg', m: { name: 'photo-0.jpg', motion: 'ken-burns', intensity: 0.15, fit: 'cover', background: '#000000' } }],
        },
      ],
    });
  });

  it('gives several pictures 3 s each, at most a minute, with fade transitions of 0.5 s', () => {
    const four = draftFor({}, photos(4));
    expect(four.d).toBe(12_000);
    expect(four.m.title).toBe('4 images');
    expect(videoSegments(four).map((sg) => [sg.s, sg.d, sg.m.transition])).toEqual([
      [0, 3375, undefined],
      [2875, 3375, { type: 'fade', d: 500 }],
      [5750, 3375, { type: 'fade', d: 500 }],
      [8625, 3375, { type: 'fade', d: 500 }],
    ]);
    expect(draftFor({}, photos(25)).d).toBe(60_000);
    expect(timelineSummary(four)).toBe('Timeline (1 track): 1. Video: 4 clips (0-12s)');
  });

  it('cuts without overlap for transition "none", the last segment taking the remainder', () => {
    const draft = draftFor({ duration_s: 10, transition: 'none', motion: 'zoom-out' }, photos(3));
    expect(videoSegments(draft).map((sg) => [sg.s, sg.d, sg.m.motion, sg.m.transition])).toEqual([
      [0, 3333, 'zoom-out', undefined],
      [3333, 3333, 'zoom-out', undefined],
      [6666, 3334, 'zoom-out', undefined],
    ]);
  });

  it('sums the segments to the duration exactly with a fractional duration and any transition', () => {
    const draft = draftFor({ duration_s: 7.3333, transition: 'wipeleft', transition_s: 1.25 }, photos(5));
    const sg = videoSegments(draft);
    expect(draft.d).toBe(7333);
    expect(sg.reduce((sum, segment) => sum + segment.d, 0) - 4 * 1222).toBe(7333);
    expect(sg.at(-1)!.s + sg.at(-1)!.d).toBe(7333);
    expect(sg[1]!.m.transition).toEqual({ type: 'wipeleft', d: 1222 });
  });

  it('puts the fit, background, motion and intensity on every segment, and `in: 0` on videos', () => {
    const pictures: DraftPicture[] = [...photos(1), { src: 'http://e/files/1/clip.mp4', filename: 'clip.mp4', kind: 'video' }];
    const draft = draftFor({ fit: 'contain', background: '#123abc', motion: 'pan-left', motion_intensity: 'strong' }, pictures);
    expect(draft.m.title).toBe('2 clips');
    expect(videoSegments(draft).map((sg) => sg.m)).toEqual([
      { name: 'photo-0.jpg', motion: 'pan-left', intensity: 0.3, fit: 'contain', background: '#123abc' },
      { name: 'clip.mp4', motion: 'pan-left', intensity: 0.3, fit: 'contain', background: '#123abc', transition: { type: 'fade', d: 500 }, in: 0 },
    ]);
  });

  it('lays captions on a text track in ms, clamped to the video, with their defaults', () => {
    const draft = draftFor({
      duration_s: 4,
      text: [
        { text: 'Whole video' },
        { text: 'Late start', start_s: 3.5, end_s: 9, position: 'top', size: 'large', color: '#ff0000' },
        { text: 'After the end', start_s: 4, end_s: 6 },
        { text: 'Tiny', start_s: 1.0001, end_s: 1.0002 },
      ],
    });
    expect(trackOf(draft, 7)!.sg).toEqual([
      { s: 0, d: 4000, m: { text: 'Whole video', position: 'bottom', size: 'medium', color: '#ffffff' } },
      { s: 3500, d: 500, m: { text: 'Late start', position: 'top', size: 'large', color: '#ff0000' } },
      { s: 1000, d: 1, m: { text: 'Tiny', position: 'bottom', size: 'medium', color: '#ffffff' } },
    ]);
    expect(draftFor({ duration_s: 2, text: [{ text: 'Too late', start_s: 3, end_s: 4 }] }).t.map((track) => track.tt)).toEqual([0]);
  });

  it('plays the uploaded music over the whole video, looped, with its volume and fade-out', () => {
    const draft = draftFor({ duration_s: 6, audio: { volume: 0.5 } }, photos(2), MUSIC);
    expect(trackOf(draft, 1)).toEqual({
      tt: 1,
      sg: [{ s: 0, d: 6000, src: MUSIC.src, m: { name: 'song.mp3', volume: 0.5, fade_out: 1000, loop: true } }],
    });
    expect(trackOf(draftFor({ audio: {} }, photos(1), MUSIC), 1)!.sg[0]!.m).toMatchObject({ volume: 0.35, fade_out: 1000 });
    expect(trackOf(draftFor({ duration_s: 2, audio: { fade_out_s: 5 } }, photos(1), MUSIC), 1)!.sg[0]!.m.fade_out).toBe(2000);
  });

  it('adds no music track without an uploaded audio file, nor without being asked', () => {
    expect(draftFor({ audio: {} }, photos(1)).t.map((track) => track.tt)).toEqual([0]);
    expect(draftFor({}, photos(1), MUSIC).t.map((track) => track.tt)).toEqual([0]);
  });
});
