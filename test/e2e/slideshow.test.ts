import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

describe('a product slideshow with music, a caption and a transition, through the REST API', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => service?.close());

  it('renders every option into the MP4 and summarizes the timeline', async () => {
    const front = await readFile(await makeTestImage(path.join(service.dir, 'front.jpg'), 640, 480));
    const back = await readFile(await makeTestImage(path.join(service.dir, 'back.jpg'), 480, 640));
    const music = path.join(service.dir, 'music.wav');
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', music]);

    const form = new FormData();
    form.append('images', new Blob([front], { type: 'image/jpeg' }), 'front.jpg');
    form.append('images', new Blob([back], { type: 'image/jpeg' }), 'back.jpg');
    form.append('audio', new Blob([await readFile(music)], { type: 'audio/wav' }), 'music.wav');
    form.append('prompt', 'Turn these photos into a video');
    form.append(
      'options',
      JSON.stringify({
        duration_s: 3,
        aspect_ratio: '9:16',
        resolution: '720p',
        fit: 'contain-blur',
        transition: 'slideleft',
        transition_s: 0.5,
        text: [{ text: 'Summer "Sale" 50% off: now!', start_s: 0, end_s: 2, position: 'top', size: 'large', color: '#ffcc00' }],
        audio: { volume: 0.5, fade_out_s: 0.5 },
      }),
    );
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 90_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.result.timeline_summary).toMatch(/^Timeline \(3 tracks\): 1\. Video: 2 clips \(0-3s\) 2\. BGM: music\.wav \(0-3s, 50%\) 3\. Title: "Summer \\?"Sale\\?" 50% off: now!" \(0-2s\)$/);

    const file = path.join(service.dir, 'slideshow.mp4');
    await writeFile(file, Buffer.from(await (await fetch(job.result.video_url, { headers: auth })).arrayBuffer()));
    const media = await probeMedia(file);
    expect(media.video).toMatchObject({ codec: 'h264', width: 720, height: 1280, pixFmt: 'yuv420p' });
    expect(media.audio).toMatchObject({ codec: 'aac' });
    expect(Math.abs(media.durationS - 3)).toBeLessThanOrEqual(1 / 30 + 0.05);
  });
});
