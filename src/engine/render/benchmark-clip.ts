import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { runProcess } from '../../shared/infra/process.ts';
import type { RenderFile } from './render-runner.ts';

/** The one clip every render answers with in benchmark mode: 1 s, 64×64, H.264, made once when the engine starts. */
const CLIP_ARGS = ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10:duration=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];

/**
 * Benchmark mode (ENGINE_BENCHMARK): renders skip ffmpeg and copy a small
 * pre-made MP4, so a benchmark of the orchestration around renders measures
 * that orchestration and not x264. Never for production: every clip is the
 * same test pattern whatever the draft says.
 */
export async function benchmarkRenderFile(dataDir: string): Promise<RenderFile> {
  const clip = path.join(dataDir, 'benchmark-clip.mp4');
  await mkdir(dataDir, { recursive: true });
  // engines sharing ENGINE_DIR start together: each writes its own copy, then swaps it in whole
  const own = path.join(dataDir, `benchmark-clip.${randomUUID()}.mp4`);
  await runProcess('ffmpeg', [...CLIP_ARGS, own], { timeoutMs: 30_000 });
  await rename(own, clip);
  const media = await probeMedia(clip);
  return async (_draft, options) => {
    await copyFile(clip, options.outPath);
    return { durationS: media.durationS, sizeBytes: media.sizeBytes };
  };
}
