import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../engine/render-helpers.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

/** a product photo, as a shop would upload it (1600×1200 JPEG) */
const PHOTO = fileURLToPath(new URL('../../assets/sample-photo.jpg', import.meta.url));
const README_SCREENSHOT = fileURLToPath(new URL('../../docs/images/try-page.png', import.meta.url));

/** The parts of an HTMLVideoElement the test reads (this file is not typed against the DOM). */
interface VideoState {
  hidden: boolean;
  paused: boolean;
  currentTime: number;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  duration: number;
  currentSrc: string;
}

describe('the try-it page, in headless Chromium', () => {
  let service: TestService;
  let browser: Browser;
  let context: BrowserContext;
  /** what the page reported as errors: failed scripts, refused by the Content-Security-Policy, … */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    service = await startTestService();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // a refused request is the browser's log line, not the page's error: the page shows those itself
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    await page.goto(`${service.url}/`);
    return page;
  }

  it('shows the API problem when the key is wrong', async () => {
    const page = await openPage();
    await page.fill('#api-key', 'not-a-key');
    await page.setInputFiles('#images', PHOTO);
    await page.click('#submit');
    await expect.poll(() => page.textContent('#problem')).toBe('Unauthorized: The API key is not valid.');
    await page.close();
  });

  it('sends the platform preset instead of the aspect ratio, and shows the rule a job breaks', async () => {
    const page = await openPage();
    await page.fill('#api-key', 'dev-key');
    await page.setInputFiles('#images', PHOTO);
    await page.selectOption('#aspect', '9:16');
    await page.selectOption('#platform', 'amazon');
    await page.fill('#duration', '5');
    await page.click('#submit');
    // 9:16 is not Amazon's, but the page leaves the ratio to the preset: the one rule broken is the duration
    await expect.poll(() => page.textContent('#problem')).toBe('Breaks a platform rule: body.options: Amazon takes videos of at least 6 s; duration_s is 5 (docs/platforms.md)');
    await page.close();
  });

  it('turns an uploaded photo into a video that plays in the page, following the stages live', async () => {
    pageErrors.length = 0;
    const page = await openPage();
    await page.fill('#api-key', 'dev-key');
    await page.setInputFiles('#images', PHOTO);
    await page.selectOption('#motion', 'zoom-in');
    await page.selectOption('#aspect', '1:1');
    await page.selectOption('#resolution', '720p');
    await page.fill('#duration', '2');
    await page.fill('#caption', 'Summer Sale');
    await page.setInputFiles('#logo', await writeImage(path.join(service.dir, 'brand.png'), 64, 32, () => [250, 200, 0]));
    await page.selectOption('#logo-corner', 'bottom-left');
    await page.fill('#badge', '-30%');
    // every text the stage line shows, as the page shows it (a string: this file is not typed against the DOM)
    await page.evaluate(`{
      const stage = document.getElementById('stage');
      window.seenStages = [];
      new MutationObserver(() => window.seenStages.push(stage.textContent)).observe(stage, { childList: true, characterData: true, subtree: true });
    }`);
    await page.click('#submit');

    const player = page.locator('#player');
    const playing = (video: VideoState) => !video.hidden && !video.paused && video.currentTime > 0.2 && video.readyState >= 2;
    await expect
      .poll(() => player.evaluate(playing), { timeout: 60_000, interval: 200 })
      .toBe(true)
      .catch(async (error: Error) => {
        const stage = await page.textContent('#stage');
        throw new Error(`the video did not play (${error.message}); stage: "${stage}"; page errors: ${pageErrors.join(' | ') || 'none'}`);
      });
    const jobId = await page.textContent('#job-id');
    expect(jobId).toMatch(/^job_[0-9a-z]{26}$/);
    const played = await player.evaluate((video: VideoState) => ({ width: video.videoWidth, height: video.videoHeight, duration: video.duration, src: video.currentSrc }));
    expect(played.width).toBe(720);
    expect(played.height).toBe(720);
    expect(played.duration).toBeCloseTo(2, 0);
    expect(played.src).toMatch(/^blob:/);

    const stages = await page.evaluate(() => (globalThis as unknown as { seenStages: string[] }).seenStages);
    expect(stages.some((text) => text.startsWith('rendering'))).toBe(true);
    expect(stages.at(-1)).toBe('succeeded');
    expect(await page.getAttribute('#download', 'download')).toBe(`${jobId}.mp4`);
    await expect.poll(() => page.locator('#jobs tr').first().textContent()).toContain(jobId!);
    expect(await page.locator('#jobs tr').first().textContent()).toContain('succeeded');

    const job = (await (await fetch(`${service.url}/v1/jobs/${jobId}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as Record<string, any>;
    expect(job.options).toMatchObject({ motion: 'zoom-in', aspect_ratio: '1:1', resolution: '720p', duration_s: 2 });
    expect(job.options.text[0].text).toBe('Summer Sale');
    expect(job.options.logo).toEqual({ corner: 'bottom-left' });
    expect(job.options.badge).toEqual({ text: '-30%' });
    expect(job.result.timeline_summary).toMatch(/Logo: brand\.png .*Badge: "-30%"/);

    const screenshot = path.join(service.dir, 'try-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      await mkdir(path.dirname(README_SCREENSHOT), { recursive: true });
      await copyFile(screenshot, README_SCREENSHOT);
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('remembers the key and lists recent jobs after a reload', async () => {
    const page = await openPage();
    expect(await page.inputValue('#api-key')).toBe('dev-key');
    await expect.poll(() => page.locator('#jobs tr').count()).toBe(1);
    expect(await page.locator('#jobs tr').first().textContent()).toContain('succeeded');
    await page.close();
  });
});
