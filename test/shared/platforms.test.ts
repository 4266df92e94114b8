import { describe, expect, it } from 'vitest';
import { ASPECT_RATIOS, FRAME_RATES, jobOptionsSchema, RESOLUTIONS, type JobOptions } from '../../src/shared/jobs/job-options.ts';
import { checkPlatformRules, defaultDurationS, PLATFORM_AUDIO, PLATFORM_SPECS, PLATFORMS, platformEncoding, withPlatformPreset } from '../../src/shared/jobs/platforms.ts';

/** The API's own longest clip (options.duration_s). */
const MAX_DURATION_S = 60;

describe('the platform table', () => {
  it.each(PLATFORMS)('%s: its preset is one of the values it takes, each rule has a published https source', (platform) => {
    const spec = PLATFORM_SPECS[platform];
    expect(spec.aspect_ratio.allowed).toContain(spec.aspect_ratio.preset);
    expect(spec.fps.allowed).toContain(spec.fps.preset);
    expect(spec.sources.length).toBeGreaterThan(0);
    for (const source of spec.sources) expect(new URL(source).protocol).toBe('https:');
    // the preset itself never breaks its own rules
    expect(checkPlatformRules(withPlatformPreset({ platform }, 1))).toEqual([]);
  });

  it.each(PLATFORMS)('%s: the longest clip it takes at its highest bitrate cap, with the audio, fits its largest file', (platform) => {
    const spec = PLATFORM_SPECS[platform];
    const longest = Math.min(spec.duration_s.max ?? MAX_DURATION_S, MAX_DURATION_S);
    const kbps = Math.max(...RESOLUTIONS.flatMap((r) => [spec.video_kbps[r].upTo30, spec.video_kbps[r].above30])) + PLATFORM_AUDIO.kbps;
    expect((kbps * 1000 * longest) / 8 / 1e6).toBeLessThanOrEqual(spec.max_file_mb);
  });
});

describe('checkPlatformRules', () => {
  it('finds nothing without a platform, or for options the preset sets', () => {
    expect(checkPlatformRules({ duration_s: 1, aspect_ratio: '16:9', fps: 60 })).toEqual([]);
    expect(checkPlatformRules({ platform: 'google-merchant' })).toEqual([]);
    const smaller: JobOptions = { platform: 'amazon', resolution: '720p' };
    expect(checkPlatformRules(smaller)).toEqual([]);
  });

  it('takes an explicit value the platform allows besides its preset (instagram-feed 1:1, youtube-shorts square)', () => {
    expect(checkPlatformRules({ platform: 'instagram-feed', aspect_ratio: '1:1' })).toEqual([]);
    expect(checkPlatformRules({ platform: 'youtube-shorts', aspect_ratio: '1:1', fps: 60 })).toEqual([]);
    expect(withPlatformPreset({ platform: 'instagram-feed', aspect_ratio: '1:1' }, 1)).toMatchObject({ aspect_ratio: '1:1', resolution: '1080p', fps: 30 });
  });

  it('names each broken rule with its value, its limit and its source, at the bounds exactly', () => {
    expect(checkPlatformRules({ platform: 'google-merchant', duration_s: 6 })).toEqual([]);
    expect(checkPlatformRules({ platform: 'google-merchant', duration_s: 5.999 })).toEqual([
      expect.objectContaining({ platform: 'google-merchant', rule: 'min_duration_s', option: 'duration_s', value: 5.999, limit: 6, source: 'https://support.google.com/merchants/answer/15216925' }),
    ]);
    expect(checkPlatformRules({ platform: 'amazon', duration_s: 45 })).toEqual([]);
    expect(checkPlatformRules({ platform: 'amazon', duration_s: 45.5, aspect_ratio: '9:16', fps: 60 }).map(({ rule, value, limit }) => ({ rule, value, limit }))).toEqual([
      { rule: 'max_duration_s', value: 45.5, limit: 45 },
      { rule: 'aspect_ratio', value: '9:16', limit: ['16:9'] },
      { rule: 'fps', value: 60, limit: [24, 25, 30] },
    ]);
    expect(checkPlatformRules({ platform: 'facebook-reels', duration_s: 2 })[0]?.message).toBe('Facebook Reels takes videos of at least 3 s; duration_s is 2');
  });

  it('is a pure function of every valid combination (nothing thrown, the same answer twice)', () => {
    for (const platform of PLATFORMS) {
      for (const aspect_ratio of ASPECT_RATIOS) {
        for (const fps of FRAME_RATES) {
          const options = jobOptionsSchema.parse({ platform, aspect_ratio, fps, duration_s: 3 });
          expect(checkPlatformRules(options)).toEqual(checkPlatformRules(options));
          const allowed = PLATFORM_SPECS[platform].aspect_ratio.allowed.includes(aspect_ratio) && PLATFORM_SPECS[platform].fps.allowed.includes(fps);
          const broken = checkPlatformRules(options).filter((v) => v.rule !== 'min_duration_s');
          expect(broken.length === 0).toBe(allowed);
        }
      }
    }
  });
});

describe('withPlatformPreset', () => {
  it('sets size and frame rate, and a duration in range where the job sets none', () => {
    expect(withPlatformPreset({ platform: 'youtube' }, 1)).toEqual({ platform: 'youtube', aspect_ratio: '16:9', resolution: '1080p', fps: 30, duration_s: defaultDurationS(1) });
    // one picture would be 5 s: Google Merchant Center wants 6 at least
    expect(withPlatformPreset({ platform: 'google-merchant' }, 1).duration_s).toBe(6);
    // twenty pictures would be a minute: Amazon takes 45 s at most
    expect(withPlatformPreset({ platform: 'amazon' }, 20).duration_s).toBe(45);
    expect(withPlatformPreset({ platform: 'tiktok', duration_s: 2, resolution: '720p', fps: 60 }, 3)).toMatchObject({ duration_s: 2, resolution: '720p', fps: 60, aspect_ratio: '9:16' });
    expect(withPlatformPreset({ duration_s: 2 }, 3)).toEqual({ duration_s: 2 });
  });

  it("gives the encoding rules for the size and frame rate rendered: YouTube's cap follows both", () => {
    expect(platformEncoding({ duration_s: 1 })).toBeUndefined();
    expect(platformEncoding(withPlatformPreset({ platform: 'youtube' }, 1))).toEqual({ platform: 'youtube', gop_s: 0.5, max_kbps: 8000, audio_hz: 48000 });
    expect(platformEncoding({ platform: 'youtube', fps: 60 })?.max_kbps).toBe(12000);
    expect(platformEncoding({ platform: 'youtube', resolution: '720p', fps: 60 })?.max_kbps).toBe(7500);
  });
});
