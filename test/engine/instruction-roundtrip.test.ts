import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstruction } from '../../src/shared/agent/index.ts';
import { BADGE_SHAPES, CORNERS, FITS, FONT_FAMILIES, FONT_WEIGHTS, MOTIONS, QUALITIES, TEXT_OVERFLOWS, TEXT_POSITIONS, TEXT_SIZES, TRANSITIONS } from '../../src/shared/jobs/draft.ts';
import { ASPECT_RATIOS, FRAME_RATES, jobOptionsSchema, MOTION_INTENSITIES, RESOLUTIONS, type JobOptions } from '../../src/shared/jobs/job-options.ts';
import { PLATFORMS, platformEncoding, withPlatformPreset } from '../../src/shared/jobs/platforms.ts';
import { composeInstruction } from '../../src/shared/jobs/instruction.ts';

/** Any number in [min, max], edge values and long fractions included (fast-check favours them). */
const within = (min: number, max: number) => {
  const doubles = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return Math.ceil(min) > Math.floor(max) ? doubles : fc.oneof(doubles, fc.integer({ min: Math.ceil(min), max: Math.floor(max) }));
};

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
      font: fc.constantFrom(...FONT_FAMILIES),
      weight: fc.constantFrom(...FONT_WEIGHTS),
      box_color: hexColor,
      box_opacity: within(0, 1),
      overflow: fc.constantFrom(...TEXT_OVERFLOWS),
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
    logo: fc.record(
      { url: fc.constant('https://cdn.example.com/logo.png'), corner: fc.constantFrom(...CORNERS), size: within(0.05, 0.5), opacity: within(0, 1), margin: within(0, 0.2) },
      { requiredKeys: [] },
    ),
    badge: fc.record(
      {
        text: captionText.filter((text) => text.length <= 40),
        corner: fc.constantFrom(...CORNERS),
        shape: fc.constantFrom(...BADGE_SHAPES),
        size: fc.constantFrom(...TEXT_SIZES),
        color: hexColor,
        background: hexColor,
      },
      { requiredKeys: ['text'] },
    ),
    platform: fc.constantFrom(...PLATFORMS),
  },
  { requiredKeys: [] },
);

/** The name the logo was uploaded with, which the instruction names it by. */
const logoName = fc.oneof(fc.constant('brand.png'), captionText);

/**
 * What the instruction carries of the options: no URLs (the worker uploads
 * those files); the logo by its uploaded name; a platform as the size, frame
 * rate and duration its preset sets, and its encoding rules.
 */
function asInstructed(asked: JobOptions, logoFile: string, images: number): ReturnType<typeof parseInstruction> {
  const options = withPlatformPreset(asked, images);
  const encoding = platformEncoding(options);
  const { audio, logo, platform: _platform, ...rest } = { ...options, ...(encoding && { encoding }) };
  const { url: _audioUrl, ...music } = audio ?? {};
  const { url: _logoUrl, ...placement } = logo ?? {};
  return { ...rest, ...(audio && { audio: music }), ...(logo && { logo: { ...placement, file: logoFile } }) };
}

const mediaOf = (options: JobOptions, images: number, logoFile: string) => ({ images, audio: options.audio !== undefined, ...(options.logo && { logo: logoFile }) });

describe('instruction round trip: what the worker composes, the engine reads back', () => {
  it('parse(compose(options)) gives back the options, for any valid options', () => {
    fc.assert(
      fc.property(jobOptions, fc.integer({ min: 1, max: 6 }), logoName, (options, images, logoFile) => {
        expect(jobOptionsSchema.safeParse(options).success).toBe(true);
        const instruction = composeInstruction('', options, mediaOf(options, images, logoFile));
        expect(parseInstruction(instruction)).toEqual(asInstructed(options, logoFile, images));
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
        const parsed = parseInstruction(composeInstruction(prompt, options, mediaOf(options, 2, 'brand.png')));
        const { text, audio, logo, ...plain } = asInstructed(options, 'brand.png', 2);
        expect(parsed).toMatchObject(plain);
        if (text) expect(parsed.text?.slice(-text.length)).toEqual(text);
        if (audio) expect(parsed.audio).toMatchObject(audio);
        if (logo) expect(parsed.logo).toEqual(logo);
      }),
      { numRuns: 200 },
    );
  });
});
