import { rename, rm } from 'node:fs/promises';
import type { Draft } from '../shared/draft.ts';
import { runProcess } from '../shared/process.ts';
import { buildRenderCommand, renderGeometry, type ResolveLocalPath } from './ffmpeg-args.ts';

export interface RenderDraftOptions {
  resolveLocalPath: ResolveLocalPath;
  outPath: string;
  /** fraction 0–1 of the output written, from ffmpeg's own `-progress` clock */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Turns ffmpeg's `-progress` key=value lines (which may arrive split) into fractions of the output duration. */
export function progressReader(durationS: number, onProgress: (fraction: number) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      // both keys are microseconds (out_time_ms is misnamed in ffmpeg); older builds print only out_time_ms
      const match = /^out_time_(?:us|ms)=(\d+)\s*$/.exec(line);
      if (match) onProgress(Math.min(1, Number(match[1]) / 1e6 / durationS));
      else if (line.trim() === 'progress=end') onProgress(1);
    }
  };
}

/** Renders a draft to `outPath` (written whole or not at all). */
export async function renderDraft(draft: Draft, options: RenderDraftOptions): Promise<void> {
  const { durationS } = renderGeometry(draft);
  const partPath = `${options.outPath}.part`;
  const args = buildRenderCommand(draft, options.resolveLocalPath, partPath);
  try {
    await runProcess('ffmpeg', args, {
      signal: options.signal,
      // generous: a hung ffmpeg must not hold a render slot forever
      timeoutMs: Math.max(10 * 60_000, durationS * 60_000),
      onStdout: progressReader(durationS, options.onProgress ?? (() => {})),
    });
    await rename(partPath, options.outPath);
  } finally {
    await rm(partPath, { force: true });
  }
}
