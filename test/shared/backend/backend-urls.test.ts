import { describe, expect, it } from 'vitest';
import { BackendUrls } from '../../../src/shared/backend/backend-urls.ts';
import { backendUrlOf, ConfigError, loadConfig } from '../../../src/shared/infra/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('BACKEND_URL with several base URLs', () => {
  it('takes a comma-separated list of http(s) URLs', () => {
    const config = loadConfig({ BACKEND_URL: ' http://10.0.0.1:8790 , https://engine-b.internal/backend/ ' });
    expect(backendUrlOf(config)).toBe('http://10.0.0.1:8790,https://engine-b.internal/backend');
    expect(new BackendUrls(backendUrlOf(config)).urls.map((u) => u.href)).toEqual(['http://10.0.0.1:8790/', 'https://engine-b.internal/backend/']);
  });

  it('names each bad entry at start-up, never showing its credentials', () => {
    const problems = problemsOf({ BACKEND_URL: 'http://a:1,ftp://files.example.com,http://a:1/,http://user:s3cret@:bad,https://ok.example.com/?k=v' });
    expect(problems).toEqual([
      'BACKEND_URL: "ftp://files.example.com" is not an http(s) URL (expected http(s) URLs separated by commas)',
      'BACKEND_URL: "http://a:1" is listed twice (expected http(s) URLs separated by commas)',
      'BACKEND_URL: "http://:bad" is not a URL (expected http(s) URLs separated by commas)',
      'BACKEND_URL: "https://ok.example.com" has a query or fragment; a base URL is a scheme, host, port and path (expected http(s) URLs separated by commas)',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('shows the list without user names or passwords', () => {
    expect(new BackendUrls('https://svc:s3cret@engine-a.internal,http://engine-b:8790').describe()).toBe('https://engine-a.internal,http://engine-b:8790');
  });
});

describe('the order in which one call tries the URLs', () => {
  const hrefs = (urls: URL[]) => urls.map((u) => u.host);

  it('rotates one step a call over the URLs that answer', () => {
    const urls = new BackendUrls('http://a,http://b,http://c');
    expect([urls.plan(), urls.plan(), urls.plan(), urls.plan()].map((plan) => hrefs(plan)[0])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('puts a URL that failed last until its cooldown is over, then first for one call at a time', () => {
    let now = 0;
    const urls = new BackendUrls('http://a,http://b', { cooldownMs: 1000, now: () => now });
    urls.failed(urls.urls[0] as URL);
    expect(hrefs(urls.plan())).toEqual(['b', 'a']);
    expect(hrefs(urls.plan())).toEqual(['b', 'a']);
    now = 1000;
    const probe = urls.plan();
    expect(hrefs(probe)).toEqual(['a', 'b']);
    urls.trying(probe[0] as URL);
    // while one call tries it, the others keep away
    expect(hrefs(urls.plan())).toEqual(['b', 'a']);
    urls.answered(probe[0] as URL);
    expect(hrefs(urls.plan()).sort()).toEqual(['a', 'b']);
  });

  it('doubles the cooldown for each failure in a row, up to a minute', () => {
    let now = 0;
    const urls = new BackendUrls('http://a,http://b', { cooldownMs: 20_000, now: () => now });
    const a = urls.urls[0] as URL;
    const dueAfter = () => {
      urls.failed(a);
      const from = now;
      while (hrefs(urls.plan())[0] !== 'a') now += 1000;
      return now - from;
    };
    expect([dueAfter(), dueAfter(), dueAfter(), dueAfter()]).toEqual([20_000, 40_000, 60_000, 60_000]);
  });

  it('tries a link’s own URL first while it answers', () => {
    const urls = new BackendUrls('http://a,http://b,http://c');
    expect(hrefs(urls.plan(new URL('http://c/')))[0]).toBe('c');
    expect(BackendUrls.moved(new URL('http://a/base/renders/x.mp4?t=1'), new URL('http://a/base/'), new URL('http://c/')).href).toBe('http://c/renders/x.mp4?t=1');
  });
});
