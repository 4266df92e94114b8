import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/shared/infra/queue-set.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver } from '../webhooks/receiver.ts';

const README_SCREENSHOT = fileURLToPath(new URL('../../docs/images/queue-dashboard.png', import.meta.url));
const ADMIN_KEY = 'admin-key-for-the-browser-test';

describe('the queue dashboard in headless Chromium', () => {
  let service: TestService;
  let receiver: Receiver;
  let browser: Browser;

  beforeAll(async () => {
    service = await startTestService({ engine: { noTextRate: 0 }, env: { ADMIN_KEY } });
    receiver = await new Receiver().start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    receiver?.close();
    await service?.close();
  });

  it('opens with the admin key as Basic credentials and shows every queue and its jobs', async () => {
    const image = receiver.serve('/p.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    const done = await postJob(service.url, { images: [image], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }, webhook_url: receiver.answer('/hook', () => ({ status: 200 })) });
    const missing = await postJob(service.url, { images: [`${receiver.url}/missing.jpg`] });
    expect((await waitForJob(service.url, ((await done.json()) as { id: string }).id)).status).toBe('succeeded');
    expect((await waitForJob(service.url, ((await missing.json()) as { id: string }).id)).status).toBe('failed');

    const refused = await browser.newContext();
    const anonymous = await refused.newPage();
    // the Basic challenge makes the browser ask for credentials; headless, it has none to give
    await expect(anonymous.goto(`${service.url}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await refused.close();

    const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, httpCredentials: { username: 'admin', password: ADMIN_KEY } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // the UI's web font comes from Google, which this machine may not reach
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    const response = await page.goto(`${service.url}/admin/queues`);
    expect(response?.status()).toBe(200);
    for (const queue of QUEUE_NAMES) await page.getByText(queue, { exact: true }).first().waitFor({ timeout: 15_000 });
    await page.goto(`${service.url}/admin/queues/queue/render?status=completed`);
    await page.getByText('job_', { exact: false }).first().waitFor({ timeout: 15_000 });

    await page.goto(`${service.url}/admin/queues`);
    for (const queue of QUEUE_NAMES) await page.getByText(queue, { exact: true }).first().waitFor();
    await page.getByText('Loading...').waitFor({ state: 'hidden', timeout: 15_000 });
    const screenshot = path.join(service.dir, 'queue-dashboard.png');
    await page.screenshot({ path: screenshot });
    if (process.env.UPDATE_README_SCREENSHOT === '1') {
      await mkdir(path.dirname(README_SCREENSHOT), { recursive: true });
      await copyFile(screenshot, README_SCREENSHOT);
    }
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
