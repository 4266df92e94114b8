import { describe, expect, it } from 'vitest';
import { composeInstruction } from '../../src/workers/instruction.ts';

describe('the instruction sent to the backend', () => {
  it('spells out the options after the prompt', () => {
    expect(composeInstruction('Animate this image with a slow zoom-in', { duration_s: 5, aspect_ratio: '9:16', resolution: '1080p', fps: 30 }, 1)).toBe(
      'Animate this image with a slow zoom-in. Duration: 5 seconds. Aspect ratio 9:16 at 1080p, 30 fps.',
    );
  });

  it('falls back to a default request when there is no prompt', () => {
    expect(composeInstruction('  ', {}, 1)).toBe('Animate this image with a slow zoom-in.');
    expect(composeInstruction('', { motion: 'pan-left' }, 3)).toBe('Turn these photos into a video. Motion: pan-left.');
  });

  it('keeps a prompt on one line', () => {
    expect(composeInstruction('make it\nshine!', {}, 1)).toBe('make it shine!');
  });
});
