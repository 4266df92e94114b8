import { describe, expect, it } from 'vitest';
import { composeInstruction } from '../../src/shared/jobs/instruction.ts';

const ONE_IMAGE = { images: 1, audio: false };

describe('the instruction sent to the backend', () => {
  it('spells out the options after the prompt, one sentence per group', () => {
    expect(
      composeInstruction(
        'Animate this image with a slow zoom-in',
        {
          duration_s: 5,
          aspect_ratio: '9:16',
          resolution: '1080p',
          fps: 30,
          text: [{ text: 'Summer Sale', start_s: 0, end_s: 3, position: 'top' }],
          audio: { volume: 0.35 },
        },
        { images: 1, audio: true },
      ),
    ).toBe(
      'Animate this image with a slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps. ' +
        'Add the text "Summer Sale" at the top from 0 s to 3 s. Use the uploaded audio as background music at 35% volume.',
    );
  });

  it('writes every option group in a fixed order', () => {
    const text = composeInstruction(
      '',
      {
        audio: { volume: 0.5, fade_out_s: 2 },
        text: [
          { text: 'One', start_s: 0.5, end_s: 2, position: 'center', size: 'large', color: '#ffcc00' },
          { text: 'Two', start_s: 2, end_s: 4 },
        ],
        transition: 'slideleft',
        transition_s: 0.8,
        fit: 'contain',
        background: '#112233',
        resolution: '720p',
        quality: 'high',
        duration_s: 1,
        motion: 'pan-up',
        motion_intensity: 'subtle',
      },
      { images: 3, audio: true },
    );
    expect(text).toBe(
      'Turn these photos into a video. Motion: pan-up, subtle intensity. Duration: 1 second. Resolution 720p, high quality. ' +
        'Fit: contain on a #112233 background. Transitions: slideleft, 0.8 seconds each. ' +
        'Add the text "One" in the center from 0.5 s to 2 s, large size, colour #ffcc00. Add the text "Two" from 2 s to 4 s. ' +
        'Use the uploaded audio as background music at 50% volume, fading out over the last 2 seconds.',
    );
  });

  it('writes a lone part of a group in a sentence of its own', () => {
    expect(composeInstruction('', { motion_intensity: 'strong' }, ONE_IMAGE)).toBe('Animate this image. Motion intensity: strong.');
    expect(composeInstruction('', { fps: 60 }, ONE_IMAGE)).toBe('Animate this image. 60 fps.');
    expect(composeInstruction('', { background: '#fff' }, ONE_IMAGE)).toBe('Animate this image. Background colour #fff.');
    expect(composeInstruction('', { transition_s: 1.5 }, ONE_IMAGE)).toBe('Animate this image. Transition length: 1.5 seconds.');
    expect(composeInstruction('', { audio: { fade_out_s: 0 } }, ONE_IMAGE)).toBe('Animate this image. Use the uploaded audio as background music, with no fade-out.');
  });

  it('asks for no option of its own when there is no prompt', () => {
    expect(composeInstruction('  ', {}, ONE_IMAGE)).toBe('Animate this image.');
    expect(composeInstruction('', { motion: 'pan-left' }, { images: 3, audio: false })).toBe('Turn these photos into a video. Motion: pan-left.');
  });

  it('mentions uploaded music even without audio options', () => {
    expect(composeInstruction('', {}, { images: 1, audio: true })).toBe('Animate this image. Use the uploaded audio as background music.');
  });

  it('keeps a prompt on one line and caption text intact, quotes and newlines included', () => {
    expect(composeInstruction('make it\nshine!', {}, ONE_IMAGE)).toBe('make it shine!');
    const text = composeInstruction('', { text: [{ text: 'He said "hi"\nthen left 🎉', start_s: 0, end_s: 1 }] }, ONE_IMAGE);
    expect(text).toBe('Animate this image. Add the text "He said \\"hi\\"\\nthen left 🎉" from 0 s to 1 s.');
    expect(text).not.toContain('\n');
  });

  it('prints a volume as a percentage only when it reads back exactly', () => {
    expect(composeInstruction('', { audio: { volume: 0.07 } }, ONE_IMAGE)).toContain('at 7% volume');
    expect(composeInstruction('', { audio: { volume: 1 / 3 } }, ONE_IMAGE)).toContain(`at volume ${1 / 3}`);
  });
});
