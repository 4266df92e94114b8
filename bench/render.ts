/**
 * Render benchmark: `npm run bench:render`.
 *
 * For each case it renders the draft through the engine's own renderDraft
 * three times and, in between, encodes the very frames the render hands
 * x264, from a raw file, with the same x264 settings (the encode-only floor:
 * no decoding, no motion, no filters, no audio), then prints the medians, their ratio, the realtime
 * factor and peak memory, and writes bench/results/render-<date>.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mp4OutputArgs, videoEncoderArgs } from '../src/engine/render/encoder.ts';
import { renderDraft } from '../src/engine/render/renderer.ts';
import { draftSchema, type Draft } from '../src/shared/jobs/draft.ts';
import { cpuSeconds } from './lib/cpu-time.ts';
import { PeakMemorySampler } from './lib/peak-memory.ts';

const RUNS = 3;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'i2v-bench-'));
const say = (line: string) => process.stdout.write(`${line}\n`);

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A 4000×3000 photo-like JPEG: colour gradients, structure, fine grain; 4:2:0 as phone cameras write them. */
function makePhoto(name: string, seed: number): string {
  const file = path.join(work, name);
  const colours = ['0x3050a0:0xe0a040', '0x206040:0xf0d0a0', '0x802040:0x40a0e0', '0x404040:0xf0f0c0', '0x105080:0xe06030'][seed % 5]!.split(':');
  ffmpeg([
    '-f', 'lavfi', '-i', `gradients=s=4000x3000:c0=${colours[0]}:c1=${colours[1]}:x0=0:y0=0:x1=4000:y1=3000:d=1`,
    '-f', 'lavfi', '-i', `mandelbrot=s=800x600:start_scale=${1 + seed * 0.7}:end_pts=1`,
    '-f', 'lavfi', '-i', 'testsrc2=s=4000x3000',
    '-filter_complex',
    '[0:v]trim=end_frame=1,format=rgb24[g];[1:v]trim=end_frame=1,scale=4000:3000:flags=bicubic,format=rgb24[m];' +
      `[2:v]trim=end_frame=1,format=rgb24[t];[g][m]blend=all_mode=overlay:all_opacity=0.6[gm];[gm][t]blend=all_mode=overlay:all_opacity=0.3,noise=alls=10:allf=u+${seed}`,
    '-frames:v', '1', '-pix_fmt', 'yuvj420p', '-q:v', '2', file,
  ]);
  return file;
}

interface Case {
  name: string;
  draft: Draft;
}

function cases(): Case[] {
  const photo = (i: number) => `photo-${i}.jpg`;
  const single = (width: number, height: number, motion: string) =>
    draftSchema.parse({ d: 5000, m: { width, height, fps: 30 }, t: [{ tt: 0, sg: [{ s: 0, d: 5000, src: photo(0), m: { motion } }] }] });
  const transitions = ['fade', 'slideleft', 'fade', 'slideup'];
  const slides = Array.from({ length: 5 }, (_, i) => ({
    s: i * 3000,
    d: 3500,
    src: photo(i),
    m: { motion: 'ken-burns', ...(i > 0 && { transition: { type: transitions[i - 1], d: 500 } }) },
  }));
  const slideshow = draftSchema.parse({
    d: 15_500,
    m: { width: 1080, height: 1920, fps: 30 },
    t: [
      { tt: 0, sg: slides },
      { tt: 1, sg: [{ s: 0, d: 15_500, src: 'music.wav', m: { volume: 0.35, fade_out: 1000, loop: true } }] },
      { tt: 7, sg: [
        { s: 0, d: 3000, m: { text: 'Summer collection', position: 'top', size: 'large' } },
        { s: 11_000, d: 4500, m: { text: 'Shop now: 50% off, today only', position: 'bottom', size: 'medium' } },
      ] },
    ],
  });
  return [
    { name: '(a) 1 photo, 5 s 1080x1920 zoom-in', draft: single(1080, 1920, 'zoom-in') },
    { name: '(b) 5 photos, 15.5 s 1080x1920 slideshow', draft: slideshow },
    { name: '(c) 1 photo, 5 s 1920x1080 pan', draft: single(1920, 1080, 'pan-left') },
  ];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => ms / 1000;

async function timeRender(draft: Draft, outPath: string) {
  const sampler = new PeakMemorySampler();
  const started = performance.now();
  const cpuBefore = cpuSeconds();
  await renderDraft(draft, { resolveLocalPath: (src) => path.join(work, src), outPath });
  const wallMs = performance.now() - started;
  const cpuS = cpuSeconds() - cpuBefore;
  const memory = sampler.stop();
  const encoder = memory.children.filter((c) => c.command.includes(' -progress '));
  const decoders = memory.children.filter((c) => !c.command.includes(' -progress '));
  return {
    wallMs,
    cpuS,
    encoderPeakMb: Math.max(0, ...encoder.map((c) => c.peakKb)) / 1024,
    decoderPeakMb: Math.max(0, ...decoders.map((c) => c.peakKb)) / 1024,
    nodePeakMb: memory.selfPeakKb / 1024,
  };
}

function timeFloor(draft: Draft, rawPath: string, frames: number): { wallMs: number; cpuS: number } {
  const { width, height, fps } = draft.m;
  const started = performance.now();
  const cpuBefore = cpuSeconds();
  ffmpeg([
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', `file:${rawPath}`,
    '-frames:v', String(frames), ...videoEncoderArgs(draft.m.quality), '-an', ...mp4OutputArgs(path.join(work, 'floor.mp4')),
  ]);
  return { wallMs: performance.now() - started, cpuS: cpuSeconds() - cpuBefore };
}

async function main() {
  say(`preparing inputs in ${work}…`);
  for (let i = 0; i < 5; i++) makePhoto(`photo-${i}.jpg`, i);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=f=220:d=10:sample_rate=48000', '-f', 'lavfi', '-i', 'sine=f=330:d=10:sample_rate=48000', '-filter_complex', 'amix=inputs=2', path.join(work, 'music.wav')]);
  const results = [];
  for (const { name, draft } of cases()) {
    const outPath = path.join(work, 'out.mp4');
    // in memory where possible: writing back gigabytes to disk would slow the timed runs that follow
    const rawPath = path.join(existsSync('/dev/shm') ? '/dev/shm' : work, `i2v-bench-frames-${process.pid}.yuv`);
    const frames = Math.round((draft.d * draft.m.fps) / 1000);
    // the floor's input: exactly the frames the render hands x264 (its moving pictures, transitions and captions)
    await renderDraft(draft, { resolveLocalPath: (src) => path.join(work, src), outPath: rawPath, rawFrames: true });
    const renders = [];
    const floors = [];
    for (let run = 0; run < RUNS; run++) {
      renders.push(await timeRender(draft, outPath));
      floors.push(timeFloor(draft, rawPath, frames));
    }
    rmSync(rawPath, { force: true });
    const wallS = seconds(median(renders.map((r) => r.wallMs)));
    const floorS = seconds(median(floors.map((f) => f.wallMs)));
    const cpuS = median(renders.map((r) => r.cpuS));
    const floorCpuS = median(floors.map((f) => f.cpuS));
    const result = {
      name,
      frames,
      clipS: draft.d / 1000,
      wallS,
      realtime: draft.d / 1000 / wallS,
      floorS,
      ratio: wallS / floorS,
      cpuS,
      floorCpuS,
      cpuRatio: cpuS / floorCpuS,
      encoderPeakMb: Math.max(...renders.map((r) => r.encoderPeakMb)),
      decoderPeakMb: Math.max(...renders.map((r) => r.decoderPeakMb)),
      nodePeakMb: Math.max(...renders.map((r) => r.nodePeakMb)),
      runs: { renderS: renders.map((r) => seconds(r.wallMs)), floorS: floors.map((f) => seconds(f.wallMs)), renderCpuS: renders.map((r) => r.cpuS), floorCpuS: floors.map((f) => f.cpuS) },
    };
    results.push(result);
    say(`${name}: ${result.wallS.toFixed(2)} s, floor ${result.floorS.toFixed(2)} s, ratio ${result.ratio.toFixed(2)} (CPU ${result.cpuRatio.toFixed(2)})`);
  }

  const rows = [
    ['case', 'wall s', 'realtime', 'floor s', 'ratio', 'CPU s', 'floor CPU s', 'CPU ratio', 'encoder MB', 'decoder MB', 'node MB'],
    ...results.map((r) => [
      r.name, r.wallS.toFixed(2), `${r.realtime.toFixed(2)}x`, r.floorS.toFixed(2), r.ratio.toFixed(2),
      r.cpuS.toFixed(2), r.floorCpuS.toFixed(2), r.cpuRatio.toFixed(2),
      r.encoderPeakMb.toFixed(0), r.decoderPeakMb.toFixed(0), r.nodePeakMb.toFixed(0),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  say('');
  for (const row of rows) say(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  say(`\nmedian of ${RUNS}; floor = the frames the render hands x264, encoded from a raw file with the same settings; ` +
    'CPU = user + system seconds of this process and its ffmpegs (steadier than wall time on a shared machine); ' +
    'memory = peak RSS (VmHWM) of the encoder ffmpeg, of the largest decoder ffmpeg, and of this Node process');

  const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const report = {
    date: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    ffmpeg: execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0],
    results,
  };
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `render-${report.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  say(`written ${path.relative(root, file)}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
