import { describe, expect, it } from 'vitest';
import { buildDraft, describeEdit, INSTRUCTION_DEFAULTS, parseInstruction } from '../../src/engine/agent.ts';
import { outputSize } from '../../src/shared/job-options.ts';
import { draftSchema, timelineSummary } from '../../src/shared/draft.ts';

describe('parseInstruction', () => {
  it('reads the instruction the worker composes', () => {
    expect(parseInstruction('Animate this image with a slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps.')).toEqual({
      durationS: 5,
      aspectRatio: '9:16',
      resolution: '1080p',
      fps: 30,
      motion: 'zoom-in',
      intensity: 0.1,
    });
    expect(parseInstruction('Animate this image with a pan to the left. Duration: 12 seconds. Aspect ratio 16:9 at 720p, 60 fps.')).toEqual({
      durationS: 12,
      aspectRatio: '16:9',
      resolution: '720p',
      fps: 60,
      motion: 'pan-left',
      intensity: 0.15,
    });
  });

  it('reads the free prompts of the seeds', () => {
    expect(parseInstruction('animate this image with a slow zoom and subtle motion effect')).toEqual({ ...INSTRUCTION_DEFAULTS, motion: 'zoom-in', intensity: 0.1 });
    expect(parseInstruction('animate this image into a 5-second video')).toEqual(INSTRUCTION_DEFAULTS);
    expect(parseInstruction('animate this image into a 5-second diffusion video with cinematic motion').durationS).toBe(5);
    expect(parseInstruction('turn these photos into a 30-second video with transitions').durationS).toBe(30);
  });

  it.each([
    ['make a 7 s clip', 7],
    ['make a 2.5s clip', 2.5],
    ['duration 8', 8],
    ['做一个10秒的视频', 10],
    ['a very long 600-second video', 120],
  ])('duration in %j', (text, seconds) => {
    expect(parseInstruction(text).durationS).toBe(seconds);
  });

  it.each([
    ['aspect ratio 4:5', '4:5'],
    ['1:1 please', '1:1'],
    ['竖屏视频', '9:16'],
    ['横屏视频', '16:9'],
    ['a vertical video', '9:16'],
    ['portrait orientation', '9:16'],
    ['landscape format', '16:9'],
    ['horizontal', '16:9'],
    ['square', '1:1'],
    // the subject, not the orientation
    ['animate this landscape photo', '9:16'],
  ])('aspect ratio in %j', (text, ratio) => {
    expect(parseInstruction(text).aspectRatio).toBe(ratio);
  });

  it.each([
    ['zoom out slowly', 'zoom-out'],
    ['pull back from the subject', 'zoom-out'],
    ['pan right across the scene', 'pan-right'],
    ['panning left', 'pan-left'],
    ['tilt up to the sky', 'pan-up'],
    ['pan down', 'pan-down'],
    ['a Ken Burns effect', 'ken-burns'],
    ['keep it static', 'static'],
    ['no motion at all', 'static'],
    ['animate my still images', 'zoom-in'],
  ])('motion in %j', (text, motion) => {
    expect(parseInstruction(text).motion).toBe(motion);
  });

  it('reads resolution and frame rate, ignoring what it does not know', () => {
    expect(parseInstruction('720p at 24 fps')).toMatchObject({ resolution: '720p', fps: 24 });
    expect(parseInstruction('full hd, 25 frames per second')).toMatchObject({ resolution: '1080p', fps: 25 });
    expect(parseInstruction('4K at 48 fps')).toMatchObject({ resolution: '1080p', fps: 30 });
  });
});

describe('buildDraft', () => {
  it('sizes the canvas from ratio and resolution', () => {
    expect(outputSize('9:16', '1080p')).toEqual({ width: 1080, height: 1920 });
    expect(outputSize('16:9', '1080p')).toEqual({ width: 1920, height: 1080 });
    expect(outputSize('1:1', '1080p')).toEqual({ width: 1080, height: 1080 });
    expect(outputSize('4:5', '1080p')).toEqual({ width: 1080, height: 1350 });
    expect(outputSize('9:16', '720p')).toEqual({ width: 720, height: 1280 });
    expect(outputSize('16:9', '720p')).toEqual({ width: 1280, height: 720 });
    expect(outputSize('1:1', '720p')).toEqual({ width: 720, height: 720 });
    expect(outputSize('4:5', '720p')).toEqual({ width: 720, height: 900 });
  });

  it('makes one valid video segment per image, the last taking the rounding remainder', () => {
    const parsed = parseInstruction('a 10-second zoom out, 1:1 at 720p');
    const draft = buildDraft(parsed, ['a', 'b', 'c'].map((name) => ({ src: `http://e/files/1/${name}.jpg`, filename: `${name}.jpg` })));
    expect(draftSchema.parse(draft)).toEqual(draft);
    expect(draft).toMatchObject({ d: 10_000, m: { title: '3 images', width: 720, height: 720, fps: 30 } });
    expect(draft.t[0]!.sg.map((sg) => [sg.s, sg.d, sg.m.motion])).toEqual([
      [0, 3333, 'zoom-out'],
      [3333, 3333, 'zoom-out'],
      [6666, 3334, 'zoom-out'],
    ]);
    expect(timelineSummary(draft)).toBe('Timeline (1 track): 1. Video: 3 clips (0-10s)');
  });

  it('describes the edit the way the GUI-minded backend does', () => {
    const parsed = parseInstruction('Animate this image with a slow zoom-in. Duration: 5 seconds.');
    const draft = buildDraft(parsed, [{ src: 'http://e/files/1/a.jpg', filename: 'a.jpg' }]);
    expect(describeEdit(parsed, draft)).toMatch(/^I've added a 5s slow zoom-in to your image .*Click Export/);
  });
});
