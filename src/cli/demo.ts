import { mkdir } from 'node:fs/promises';
import { createWriteStream, openAsBlob } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch, FormData } from 'undici';
import { DEV_TENANT, type Config } from '../shared/infra/config.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { probeMedia } from '../shared/media/ffprobe.ts';
import { mimeTypeFor } from '../shared/media/media-formats.ts';
import { startAllInOne } from './all-in-one.ts';
import { out } from './output.ts';

export const SAMPLE_PHOTO = fileURLToPath(new URL('../../assets/sample-photo.jpg', import.meta.url));

interface JobSnapshot {
  id: string;
  status: string;
  stage: string;
  progress: number;
  result: { video_url: string } | null;
  error: { code: string; message: string } | null;
}

/**
 * The quick start: everything in one process, the bundled photo submitted
 * through the REST API like any client would, followed to the end, and the
 * MP4 written to ./out/.
 */
export async function runDemo(config: Config, logger: Logger): Promise<string> {
  const started = performance.now();
  const service = await startAllInOne({ ...config, PORT: 0 }, logger);
  try {
    const apiKey = config.API_KEYS[0]?.key ?? DEV_TENANT.key;
    const headers = { authorization: `Bearer ${apiKey}` };
    const form = new FormData();
    form.append('images', await openAsBlob(SAMPLE_PHOTO, { type: mimeTypeFor(SAMPLE_PHOTO) }), 'sample-photo.jpg');
    form.append('prompt', 'Animate this product photo with a slow zoom-in.');
    form.append('options', JSON.stringify({ duration_s: 5, aspect_ratio: '9:16', resolution: '1080p' }));
    const created = await fetch(`${service.api.url}/v1/jobs`, { method: 'POST', headers, body: form });
    if (created.status !== 202) throw new Error(`POST /v1/jobs answered ${created.status}: ${await created.text()}`);
    let job = (await created.json()) as JobSnapshot;
    out.line(`submitted ${job.id} (sample photo → 5 s 1080×1920 zoom-in)`);

    let shown = '';
    while (job.status === 'queued' || job.status === 'running') {
      await sleep(250);
      job = (await (await fetch(`${service.api.url}/v1/jobs/${job.id}`, { headers })).json()) as JobSnapshot;
      const line = `  ${job.status.padEnd(9)} ${job.stage.padEnd(12)} ${String(job.progress).padStart(3)}%`;
      if (line !== shown) out.line((shown = line));
    }
    if (job.status !== 'succeeded' || !job.result) {
      throw new Error(`job ${job.id} ${job.status}: ${job.error ? `${job.error.code}: ${job.error.message}` : 'no result'}`);
    }
    const target = path.resolve('out', `${job.id}.mp4`);
    await mkdir(path.dirname(target), { recursive: true });
    const video = await fetch(job.result.video_url, { headers });
    if (!video.ok || !video.body) throw new Error(`GET ${job.result.video_url} answered ${video.status}`);
    await pipeline(Readable.fromWeb(video.body as never), createWriteStream(target));
    const media = await probeMedia(target);
    out.line(`video: ${media.video?.codec} ${media.video?.width}×${media.video?.height}, ${media.durationS.toFixed(2)} s, ${(media.sizeBytes / 1024).toFixed(0)} KiB`);
    out.line(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    out.line(target);
    return target;
  } finally {
    await service.close();
  }
}
