import { spawn } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderDraft } from '../../src/engine/render/renderer.ts';
import { draftSchema, type Draft } from '../../src/shared/jobs/draft.ts';
import { runProcess } from '../../src/shared/infra/process.ts';

/** Runs ffmpeg and returns its stdout as bytes. */
export function ffmpegBytes(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
    if (input) child.stdin!.end(input);
  });
}

/** Writes an image file (format from its extension) from a per-pixel RGB function. */
export async function writeImage(file: string, width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Promise<string> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set(rgb(x, y).map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * width + x) * 3);
  }
  await ffmpegBytes(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-frames:v', '1', '-q:v', '2', '-y', file], pixels);
  return file;
}

/** Soft round dots (Gaussian, so their centroids are sub-pixel exact) on black; positions as fractions of the image. */
export function dotsImage(file: string, width: number, height: number, dots: [number, number][], radius: number): Promise<string> {
  return writeImage(file, width, height, (x, y) => {
    let v = 0;
    for (const [fx, fy] of dots) v += 255 * Math.exp(-((x - fx * width) ** 2 + (y - fy * height) ** 2) / (2 * radius * radius));
    return [v, v, v];
  });
}

export async function lavfi(file: string, source: string, extra: string[] = []): Promise<string> {
  await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, ...extra, file]);
  return file;
}

/** Every frame of a video as raw pixels at its own size. */
export async function decodeFrames(video: string, width: number, height: number, pixFmt: 'gray' | 'rgb24' = 'gray'): Promise<Buffer[]> {
  const bytes = await ffmpegBytes(['-i', video, '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1']);
  const size = width * height * (pixFmt === 'gray' ? 1 : 3);
  return Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

export function meanAbsDifference(a: Buffer, b: Buffer, pick: (i: number) => boolean = () => true): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!pick(i)) continue;
    sum += Math.abs(a[i]! - b[i]!);
    n++;
  }
  return sum / n;
}

/** Mean and standard deviation of a gray frame's rows [y0, y1). */
export function bandStats(frame: Buffer, width: number, y0: number, y1: number): { mean: number; std: number } {
  const values = frame.subarray(y0 * width, y1 * width);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/** The intensity-weighted centre of the bright pixels within `radius` of (x, y). */
export function centroid(frame: Buffer, width: number, height: number, x: number, y: number, radius: number): [number, number] {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let py = Math.max(0, Math.floor(y - radius)); py <= Math.min(height - 1, Math.ceil(y + radius)); py++) {
    for (let px = Math.max(0, Math.floor(x - radius)); px <= Math.min(width - 1, Math.ceil(x + radius)); px++) {
      const v = Math.max(0, frame[py * width + px]! - 24);
      sum += v;
      sx += v * px;
      sy += v * py;
    }
  }
  return [sx / sum, sy / sum];
}

/** A dot followed through every frame, each search starting where it was last seen. */
export function track(frames: Buffer[], width: number, height: number, start: [number, number], radius: number): [number, number][] {
  const path: [number, number][] = [];
  // find the dot near its expected place first, then keep to a tight window around it
  let at = centroid(frames[0]!, width, height, start[0], start[1], radius * 3);
  at = centroid(frames[0]!, width, height, at[0], at[1], radius);
  for (const frame of frames) {
    at = centroid(frame, width, height, at[0], at[1], radius);
    path.push(at);
  }
  return path;
}

/** Mean |second difference| of a path (px/frame²), and how many steps go against its overall direction. */
export function smoothness(path: [number, number][]): { meanAcceleration: number; backwardSteps: number } {
  const steps = path.slice(1).map(([x, y], i) => [x - path[i]![0], y - path[i]![1]] as const);
  const total = [path.at(-1)![0] - path[0]![0], path.at(-1)![1] - path[0]![1]];
  const backwardSteps = steps.filter(([dx, dy]) => dx * total[0]! + dy * total[1]! <= 0).length;
  const accelerations = steps.slice(1).map(([dx, dy], i) => Math.hypot(dx - steps[i]![0], dy - steps[i]![1]));
  return { meanAcceleration: accelerations.reduce((s, a) => s + a, 0) / accelerations.length, backwardSteps };
}

export interface StreamInfo {
  codec_type: string;
  codec_name: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  color_space?: string;
  color_primaries?: string;
  color_transfer?: string;
  bit_rate?: string;
  duration?: string;
  nb_frames?: string;
}

export async function probeStreams(file: string): Promise<{ streams: StreamInfo[]; durationS: number }> {
  const { stdout } = await runProcess('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const data = JSON.parse(stdout) as { streams: StreamInfo[]; format: { duration: string } };
  return { streams: data.streams, durationS: Number(data.format.duration) };
}

/** Mean volume (dB) of the audio in [startS, startS + durationS). */
export async function meanVolume(file: string, startS = 0, durationS = 1e6): Promise<number> {
  const { stderr } = await runProcess('ffmpeg', ['-nostdin', '-v', 'info', '-ss', String(startS), '-t', String(durationS), '-i', file, '-vn', '-af', 'volumedetect', '-f', 'null', '-']);
  const match = /mean_volume: (-?[\d.]+) dB/.exec(stderr);
  if (!match) throw new Error(`no volume in ${stderr.slice(-500)}`);
  return Number(match[1]);
}

/** The MP4's top-level box types in file order. */
export async function topLevelBoxes(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const boxes: string[] = [];
    const header = Buffer.alloc(16);
    for (let at = 0; at < size; ) {
      await handle.read(header, 0, 16, at);
      let length = header.readUInt32BE(0);
      if (length === 1) length = Number(header.readBigUInt64BE(8));
      boxes.push(header.toString('latin1', 4, 8));
      if (length < 8) break;
      at += length;
    }
    return boxes;
  } finally {
    await handle.close();
  }
}

/** A temp folder whose files drafts refer to by name. */
export async function renderFolder(): Promise<{ dir: string; render: (draft: unknown, name: string) => Promise<string>; close: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'i2v-render-test-'));
  return {
    dir,
    render: async (draft, name) => {
      const outPath = path.join(dir, name);
      await renderDraft(draftSchema.parse(draft), { resolveLocalPath: (src) => path.join(dir, src), outPath });
      return outPath;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A draft of pictures one after another (each `d` ms) at a small size. */
export function slideshow(segments: { src: string; d: number; m?: Record<string, unknown> }[], options: { width?: number; height?: number; extraTracks?: unknown[] } = {}): Draft {
  let s = 0;
  const sg = segments.map((segment, i) => {
    const overlap = i > 0 ? ((segment.m?.transition as { d: number } | undefined)?.d ?? 0) : 0;
    s -= overlap;
    const entry = { s, d: segment.d, src: segment.src, m: { motion: 'static', ...segment.m } };
    s += segment.d;
    return entry;
  });
  return draftSchema.parse({ t: [{ tt: 0, sg }, ...(options.extraTracks ?? [])], d: s, m: { width: options.width ?? 180, height: options.height ?? 320, fps: 30 } });
}
