import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstruction } from '../../src/engine/agent/index.ts';
import { FITS, MOTIONS, QUALITIES, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS } from '../../src/shared/jobs/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, jobOptionsSchema, MOTION_INTENSITIES, RESOLUTIONS, type JobOptions } from '../../src/shared/jobs/job-options.ts';
import { composeInstruction } from '../../src/workers/instruction.ts';

/** Any number in [min, max], edge values and long fractions included (fast-check favours them). */
const within = (min: number, max: number) =>
  fc.oneof(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: Math.ceil(min), max: Math.floor(max) }));

const hexColor = fc.stringMatching(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/);

/** Caption text that could be mistaken for the instruction's own sentences. */
const trickyText = fc
  .array(
    fc.constantFrom('"', '\\', '\n', '. ', ' ', 'Duration: 7 seconds.', 'Add the text "', ' at the top from 0 s to 1 s.', 'remove the music', '😀', '「', '”', "'", '\u2028', '\ud800'),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const captionText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  trickyText,
);

const caption = fc
  .record(
    {
      text: captionText,
      times: fc.tuple(within(0, 60), within(0, 60)).filter(([a, b]) => a !== b),
      position: fc.constantFrom(...TEXT_POSITIONS),
      size: fc.constantFrom(...TEXT_SIZES),
      color: hexColor,
    },
    { requiredKeys: ['text', 'times'] },
  )
  .map(({ times: [a, b], ...rest }) => ({ ...rest, start_s: Math.min(a, b), end_s: Math.max(a, b) }));

const jobOptions: fc.Arbitrary<JobOptions> = fc.record(
  {
    duration_s: within(1, 60),
    aspect_ratio: fc.constantFrom(...ASPECT_RATIOS),
    resolution: fc.constantFrom(...RESOLUTIONS),
    fps: fc.constantFrom(...FRAME_RATES),
    quality: fc.constantFrom(...QUALITIES),
    motion: fc.constantFrom(...MOTIONS),
    motion_intensity: fc.constantFrom(...MOTION_INTENSITIES),
    fit: fc.constantFrom(...FITS),
    background: hexColor,
    transition: fc.constantFrom(...TRANSITIONS),
    transition_s: within(0.2, 2),
    text: fc.array(caption, { minLength: 1, maxLength: 4 }),
    audio: fc.record(
      { url: fc.constant('https://cdn.example.com/song.mp3'), volume: within(0, 1), fade_out_s: within(0, 10) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

function withoutAudioUrl(options: JobOptions): JobOptions {
  if (!options.audio) return options;
  const { url: _url, ...audio } = options.audio;
  return { ...options, audio };
}

describe('instruction round trip: what the worker composes, the engine reads back', () => {
  it('parse(compose(options)) gives back the options, for any valid options', () => {
    fc.assert(
      fc.property(jobOptions, fc.integer({ min: 1, max: 6 }), (options, images) => {
        expect(jobOptionsSchema.safeParse(options).success).toBe(true);
        const instruction = composeInstruction('', options, { images, audio: options.audio !== undefined });
        expect(parseInstruction(instruction)).toEqual(withoutAudioUrl(options));
      }),
      { numRuns: 500 },
    );
  });

  it('options win over a prompt that says otherwise', () => {
    const prompts = fc.constantFrom(
      'animate this image with a slow zoom and subtle motion',
      'turn these photos into a 30-second video with transitions and background music',
      'make a 7 s landscape clip at 24 fps, pan left, no transitions',
      '竖屏，缓慢放大，字幕「夏日促销」，10秒',
      'He said "stop',
    );
    fc.assert(
      fc.property(prompts, jobOptions, (prompt, options) => {
        const parsed = parseInstruction(composeInstruction(prompt, options, { images: 2, audio: options.audio !== undefined }));
        const { text, audio, ...plain } = withoutAudioUrl(options);
        expect(parsed).toMatchObject(plain);
        if (text) expect(parsed.text?.slice(-text.length)).toEqual(text);
        if (audio) expect(parsed.audio).toMatchObject(audio);
      }),
      { numRuns: 200 },
    );
  });
});
