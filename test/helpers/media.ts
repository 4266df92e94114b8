import { runProcess } from '../../src/shared/infra/process.ts';
import { spawn } from 'node:child_process';
import { deflateSync } from 'node:zlib';

/** A photo-like test image: a colour gradient with detail, so motion shows up between frames. */
export async function makeTestImage(path: string, width = 640, height = 480): Promise<string> {
  await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-y', '-f', 'lavfi',
    '-i', `testsrc2=size=${width}x${height}:rate=1`,
    '-frames:v', '1', '-q:v', '3', path,
  ]);
  return path;
}

/** A picture of one solid colour (an ffmpeg colour name or 0xRRGGBB), so a frame shows which input it came from. */
export async function makeSolidImage(path: string, colour: string, width = 320, height = 240): Promise<string> {
  await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${colour}:s=${width}x${height}`, '-frames:v', '1', path]);
  return path;
}

/** One decoded frame at time `atS` (or counted from the end when negative), filtered by `filter`, as raw pixels. */
function rawFrame(video: string, atS: number, filter: string, pixelFormat: string): Promise<Buffer> {
  const seek = atS < 0 ? ['-sseof', String(atS)] : ['-ss', String(atS)];
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-nostdin', '-v', 'error', ...seek, '-i', video, '-frames:v', '1', '-vf', filter, '-f', 'rawvideo', '-pix_fmt', pixelFormat, '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

/** One decoded frame as 8-bit gray pixels, at time `atS` (or counted from the end when negative). */
export function grayFrame(video: string, atS: number, width = 64, height = 64): Promise<Buffer> {
  return rawFrame(video, atS, `scale=${width}:${height}`, 'gray');
}

/** The mean [r, g, b] of a frame's middle (clear of captions at the top or bottom), 0–255 each. */
export async function middleColour(video: string, atS: number): Promise<[number, number, number]> {
  const pixels = await rawFrame(video, atS, 'crop=iw/2:ih/4:iw/4:ih*3/8,scale=8:8', 'rgb24');
  const sums = [0, 0, 0];
  pixels.forEach((value, index) => (sums[index % 3]! += value));
  const count = pixels.length / 3;
  return [sums[0]! / count, sums[1]! / count, sums[2]! / count];
}

/** Mean absolute difference of two gray frames, 0–255. */
export function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** A large photo (noise compresses badly: ~3–4 MB at 2000×2000), the size a shop's original upload has. */
export async function makeLargePhoto(path: string, width = 2000, height = 2000): Promise<string> {
  await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-y', '-f', 'lavfi',
    '-i', `testsrc2=size=${width}x${height}:rate=1,noise=alls=60:allf=t`,
    '-frames:v', '1', '-q:v', '2', path,
  ]);
  return path;
}

/** A PNG whose header declares `width` × `height` (its pixels are not there): a decompression bomb's shape. */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}
