import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/infra/config.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

/** A logger whose lines are kept, to see what the engine said at start. */
function capturingLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } }) };
}

async function renderOnePhoto(service: TestService): Promise<Record<string, any>> {
  const photo = await makeTestImage(path.join(service.dir, 'photo.jpg'), 320, 240);
  const form = new FormData();
  form.append('images', new Blob([await readFile(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  form.append('options', JSON.stringify({ duration_s: 2, aspect_ratio: '1:1', resolution: '720p' }));
  const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
  expect(created.status).toBe(202);
  return waitForJob(service.url, ((await created.json()) as { id: string }).id);
}

describe('engine benchmark mode (ENGINE_BENCHMARK)', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('is off unless set, and refused in production', () => {
    expect(loadConfig({}).ENGINE_BENCHMARK).toBe(false);
    expect(loadConfig({ ENGINE_BENCHMARK: '1' }).ENGINE_BENCHMARK).toBe(true);
    expect(() => loadConfig({ NODE_ENV: 'production', API_KEYS: 'shop=abc', ENGINE_BENCHMARK: 'true' })).toThrow(/ENGINE_BENCHMARK: .*NODE_ENV=production/);
  });

  it('by default, the engine really renders what the job asks for', async () => {
    const { lines, logger } = capturingLogger();
    service = await startTestService({ engine: { logger } });
    const job = await renderOnePhoto(service);
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ width: 720, height: 720, duration_s: 2 });
    expect(lines.join('')).not.toMatch(/BENCHMARK MODE/);
  });

  it('when on, a job completes with the pre-made clip instead of a render, and the engine says so', async () => {
    const { lines, logger } = capturingLogger();
    service = await startTestService({ engine: { logger, benchmark: true } });
    expect(lines.join('')).toMatch(/BENCHMARK MODE \(ENGINE_BENCHMARK\).*never use this in production/);
    const job = await renderOnePhoto(service);
    expect(job.status).toBe('succeeded');
    // the 1 s 64×64 test clip, whatever the job asked for
    expect(job.result).toMatchObject({ width: 64, height: 64, duration_s: 1 });
    const video = await fetch(job.result.video_url, { headers: { authorization: 'Bearer dev-key' } });
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect((await video.arrayBuffer()).byteLength).toBe(job.result.size_bytes);
  });
});
