import { describe, expect, it } from 'vitest';
import { parseInstruction, readInstruction } from '../../src/shared/agent/index.ts';

describe('parseInstruction: the sentences the worker composes', () => {
  it("reads the issue's example exactly", () => {
    expect(
      parseInstruction(
        'Animate this image with a slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps. ' +
          'Add the text "Summer Sale" at the top from 0 s to 3 s. Use the uploaded audio as background music at 35% volume.',
      ),
    ).toEqual({
      motion: 'zoom-in',
      motion_intensity: 'subtle',
      duration_s: 5,
      aspect_ratio: '9:16',
      resolution: '1080p',
      fps: 30,
      text: [{ text: 'Summer Sale', start_s: 0, end_s: 3, position: 'top' }],
      audio: { volume: 0.35 },
    });
  });

  it('reads every sentence shape', () => {
    expect(
      parseInstruction(
        'Turn these photos into a video. Motion: pan-up, subtle intensity. Duration: 1 second. Resolution 720p, high quality. ' +
          'Fit: contain on a #112233 background. Transitions: slideleft, 0.8 seconds each. ' +
          'Add the text "One" in the center from 0.5 s to 2 s, large size, colour #FFCC00. Add the text "Two" from 2 s to 4 s. ' +
          'Use the uploaded audio as background music at volume 0.3333, fading out over the last 2 seconds.',
      ),
    ).toEqual({
      motion: 'pan-up',
      motion_intensity: 'subtle',
      duration_s: 1,
      resolution: '720p',
      quality: 'high',
      fit: 'contain',
      background: '#112233',
      transition: 'slideleft',
      transition_s: 0.8,
      text: [
        { text: 'One', start_s: 0.5, end_s: 2, position: 'center', size: 'large', color: '#FFCC00' },
        { text: 'Two', start_s: 2, end_s: 4 },
      ],
      audio: { volume: 0.3333, fade_out_s: 2 },
    });
    expect(parseInstruction('Animate this image. Motion intensity: strong. 60 fps. Background colour #fff. Transition length: 1.5 seconds.')).toEqual({
      motion_intensity: 'strong',
      fps: 60,
      background: '#fff',
      transition_s: 1.5,
    });
    expect(parseInstruction('Animate this image. Use the uploaded audio as background music, with no fade-out.')).toEqual({ audio: { fade_out_s: 0 } });
  });

  it('asks nothing of its own in the prompt-less fallback sentences', () => {
    expect(parseInstruction('Animate this image.')).toEqual({});
    expect(parseInstruction('Turn these photos into a video.')).toEqual({});
  });

  it('never reads a caption as instructions, and lets the options win over the prompt', () => {
    expect(parseInstruction('Make it 16:9 with a zoom out. Aspect ratio 1:1. Add the text "pan left. Duration: 9 seconds. 4:5" from 0 s to 1 s.')).toEqual({
      aspect_ratio: '1:1',
      motion: 'zoom-out',
      text: [{ text: 'pan left. Duration: 9 seconds. 4:5', start_s: 0, end_s: 1 }],
    });
  });

  it('keeps reading the option sentences after a prompt with an unbalanced quote', () => {
    expect(parseInstruction('He said "wait. Duration: 4 seconds. Add the text "ok" from 0 s to 1 s.')).toEqual({
      duration_s: 4,
      text: [{ text: 'ok', start_s: 0, end_s: 1 }],
    });
  });
});

describe('parseInstruction: free prompts in the seeds’ style', () => {
  it.each<[string, object]>([
    ['animate this image with a slow zoom and subtle motion', { motion: 'zoom-in', motion_intensity: 'subtle' }],
    ['turn these photos into a 30-second video with transitions and background music', { duration_s: 30, transition: 'fade', audio: {} }],
    ['animate my still images', {}],
    ['convert my static images', {}],
    ['export 1080p MP4', { resolution: '1080p' }],
    ['animate this image into a 5-second video with smooth motion', { duration_s: 5 }],
  ])('%j', (text, request) => {
    expect(parseInstruction(text)).toEqual(request);
  });

  it.each([
    ['make a 7 s clip', 7],
    ['make a 2.5s clip', 2.5],
    ['duration 8', 8],
    ['做一个10秒的视频', 10],
    ['a very long 600-second video', 60],
    ['a 0.2 second flash', 1],
  ])('duration in %j', (text, seconds) => {
    expect(parseInstruction(text).duration_s).toBe(seconds);
  });

  it.each([
    ['aspect ratio 4:5', '4:5'],
    ['1:1 please', '1:1'],
    ['竖屏视频', '9:16'],
    ['横屏视频', '16:9'],
    ['方形', '1:1'],
    ['正方形的视频', '1:1'],
    ['a vertical video', '9:16'],
    ['portrait orientation', '9:16'],
    ['landscape format', '16:9'],
    ['square', '1:1'],
  ])('aspect ratio in %j', (text, ratio) => {
    expect(parseInstruction(text).aspect_ratio).toBe(ratio);
  });

  it('does not take the subject for the orientation', () => {
    expect(parseInstruction('animate this landscape photo').aspect_ratio).toBeUndefined();
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
    ['放大', 'zoom-in'],
    ['缩小', 'zoom-out'],
    ['向左移动', 'pan-left'],
    ['画面左移', 'pan-left'],
    ['向右', 'pan-right'],
    ['向上', 'pan-up'],
    ['向下', 'pan-down'],
    ['静止画面', 'static'],
  ])('motion in %j', (text, motion) => {
    expect(parseInstruction(text).motion).toBe(motion);
  });

  it.each([
    ['a slow zoom', 'subtle'],
    ['gentle motion', 'subtle'],
    ['慢慢放大', 'subtle'],
    ['缓慢推近', 'subtle'],
    ['a dramatic zoom', 'strong'],
    ['快速缩小', 'strong'],
    ['normal motion', 'normal'],
  ])('motion intensity in %j', (text, intensity) => {
    expect(parseInstruction(text).motion_intensity).toBe(intensity);
  });

  it('reads resolution, frame rate and quality, ignoring what it does not know', () => {
    expect(parseInstruction('720p at 24 fps')).toEqual({ resolution: '720p', fps: 24 });
    expect(parseInstruction('full hd, 25 frames per second, high quality')).toEqual({ resolution: '1080p', fps: 25, quality: 'high' });
    expect(parseInstruction('4K at 48 fps')).toEqual({});
  });

  it.each<[string, object]>([
    ['with a blurred background', { fit: 'contain-blur' }],
    ["don't crop the photo, on a white background", { fit: 'contain', background: '#ffffff' }],
    ['letterboxed on a #223344 background', { fit: 'contain', background: '#223344' }],
    ['fill the frame', { fit: 'cover' }],
  ])('fit in %j', (text, request) => {
    expect(parseInstruction(text)).toEqual(request);
  });

  it.each<[string, object]>([
    ['with transitions', { transition: 'fade' }],
    ['加转场', { transition: 'fade' }],
    ['with dissolves between photos', { transition: 'dissolve' }],
    ['slide left between the photos', { transition: 'slideleft' }],
    ['wipe right', { transition: 'wiperight' }],
    ['circle open transitions', { transition: 'circleopen' }],
    ['hard cuts, no transitions', { transition: 'none' }],
    ['0.8 s crossfade transitions for a 12 second video', { transition: 'fade', transition_s: 0.8, duration_s: 12 }],
    ['transitions of 1 second', { transition: 'fade', transition_s: 1 }],
  ])('transitions in %j', (text, request) => {
    expect(parseInstruction(text)).toEqual(request);
  });

  it.each<[string, object]>([
    ['add background music', { audio: {} }],
    ['加背景音乐', { audio: {} }],
    ['music at 50% volume, fading out over the last 2 seconds, 8 seconds long', { audio: { volume: 0.5, fade_out_s: 2 }, duration_s: 8 }],
  ])('music in %j', (text, request) => {
    expect(parseInstruction(text)).toEqual(request);
  });

  it.each<[string, object[]]>([
    ['add the caption "Hello world" at the top from 1 s to 3 s', [{ text: 'Hello world', position: 'top', start_s: 1, end_s: 3 }]],
    ['with the title “Summer Sale”', [{ text: 'Summer Sale' }]],
    ["put the text 'Zoom out 16:9' in the middle", [{ text: 'Zoom out 16:9', position: 'center' }]],
    ['字幕「夏日促销」在顶部', [{ text: '夏日促销', position: 'top' }]],
    ['字幕：限时优惠', [{ text: '限时优惠' }]],
  ])('captions in %j', (text, captions) => {
    expect(parseInstruction(text)).toEqual({ text: captions });
  });

  it('reads a Chinese prompt with several keywords', () => {
    expect(parseInstruction('竖屏，缓慢放大，字幕「夏日促销」，背景音乐，转场，15秒')).toEqual({
      aspect_ratio: '9:16',
      motion: 'zoom-in',
      motion_intensity: 'subtle',
      text: [{ text: '夏日促销' }],
      audio: {},
      transition: 'fade',
      duration_s: 15,
    });
  });
});

describe('readInstruction: intents', () => {
  it.each([
    ['animate this image into a 5-second diffusion video with cinematic motion', true],
    ['make a text-to-video clip', true],
    ['generate an AI video from this', true],
    ['用AI生成视频', true],
    ['animate this image with a slow zoom', false],
    ['add the caption "Stable Diffusion meetup"', false],
    ['Animate this image. Add the text "diffusion" from 0 s to 1 s.', false],
  ])('generation in %j: %s', (text, expected) => {
    expect(readInstruction(text).asksForGeneration).toBe(expected);
  });

  it.each([
    ['导出', true],
    ['export 1080p MP4', true],
    ['download it', true],
    ['make it 16:9', false],
  ])('export in %j: %s', (text, expected) => {
    expect(readInstruction(text).asksForExport).toBe(expected);
  });
});
