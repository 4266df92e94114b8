import { describe, expect, it } from 'vitest';
import { backendIdentity, renderCacheKey, type CacheKeyMaterial } from '../../src/workers/render-cache/cache-key.ts';

const work: CacheKeyMaterial = {
  tenant: 'shop-a',
  backend: backendIdentity('http://127.0.0.1:8790'),
  preset: 'motion',
  instruction: 'Animate this image. Duration: 2 seconds.',
  options: { duration_s: 2, aspect_ratio: '1:1', text: [{ text: 'Sale', start_s: 0, end_s: 1, position: 'top' }] },
  inputs: [
    { role: 'image', sha256: 'a'.repeat(64) },
    { role: 'audio', sha256: 'b'.repeat(64) },
  ],
};

describe('the render cache key', () => {
  it('is the same for the same work whatever order the options were written in, with or without cache: true', () => {
    const reordered: CacheKeyMaterial = {
      ...work,
      options: { text: [{ position: 'top', end_s: 1, start_s: 0, text: 'Sale' }], cache: true, aspect_ratio: '1:1', duration_s: 2 },
    };
    expect(renderCacheKey(reordered)).toBe(renderCacheKey(work));
  });

  it("leaves out the music's URL (its bytes are an input) but not its volume", () => {
    const withUrl = { ...work, options: { ...work.options, audio: { url: 'https://cdn.example.com/a.mp3', volume: 0.5 } } };
    const otherUrl = { ...work, options: { ...work.options, audio: { url: 'https://cdn.example.com/b.mp3', volume: 0.5 } } };
    const louder = { ...work, options: { ...work.options, audio: { url: 'https://cdn.example.com/a.mp3', volume: 0.9 } } };
    expect(renderCacheKey(withUrl)).toBe(renderCacheKey(otherUrl));
    expect(renderCacheKey(louder)).not.toBe(renderCacheKey(withUrl));
  });

  it('differs for another tenant, backend, preset, prompt, option, input byte or input order', () => {
    const variants: CacheKeyMaterial[] = [
      { ...work, tenant: 'shop-b' },
      { ...work, backend: backendIdentity('https://mega-api-prod.nemovideo.ai') },
      { ...work, preset: 'slideshow' },
      { ...work, instruction: 'Zoom in. Duration: 2 seconds.' },
      { ...work, options: { ...work.options, duration_s: 3 } },
      // a default spelled out is not the same work: the prompt may set what the options leave out
      { ...work, options: { ...work.options, motion: 'ken-burns' } },
      { ...work, inputs: [{ role: 'image', sha256: 'c'.repeat(64) }, work.inputs[1]!] },
      { ...work, inputs: [...work.inputs].reverse() },
    ];
    const keys = new Set([renderCacheKey(work), ...variants.map(renderCacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('names one backend by its URLs in any order, and the embedded engine and the cloud apart', () => {
    expect(backendIdentity('http://10.0.0.2:8790/, http://10.0.0.1:8790')).toBe(backendIdentity('http://10.0.0.1:8790,http://10.0.0.2:8790'));
    expect(backendIdentity('http://127.0.0.1:8790')).not.toBe(backendIdentity('https://mega-api-prod.nemovideo.ai'));
  });
});
