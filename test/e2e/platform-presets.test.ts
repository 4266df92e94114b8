import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../src/shared/infra/process.ts';
import { outputSize } from '../../src/shared/jobs/job-options.ts';
import { PLATFORM_SPECS, PLATFORMS, platformEncoding, withPlatformPreset, type Platform } from '../../src/shared/jobs/platforms.ts';
import { makeLargePhoto, makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

/** What ffprobe and the file's own bytes say about an MP4's encoding. */
interface Encoded {
  video: { codec: string; width: number; height: number; rFrameRate: string; avgFrameRate: string; bitRate: number };
  audio?: { codec: string; sampleRate: number; channels: number };
  /** the video packets in display order: their pts step, and which are keyframes */
  ptsSteps: number[];
  keyframes: number[];
  frames: number;
  /** the top-level MP4 boxes in file order */
  boxes: string[];
  /** x264's settings, as it wrote them into the stream (its SEI) */
  x264: Map<string, string>;
}

async function probeEncoding(file: string): Promise<Encoded> {
  const { stdout } = await runProcess('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_entries', 'packet=stream_index,pts,flags', `file:${file}`]);
  const data = JSON.parse(stdout) as { streams: Record<string, any>[]; packets: { stream_index: number; pts: number; flags: string }[] };
  const v = data.streams.find((s) => s.codec_type === 'video')!;
  const a = data.streams.find((s) => s.codec_type === 'audio');
  const packets = data.packets.filter((p) => p.stream_index === v.index).sort((x, y) => x.pts - y.pts);
  const bytes = await readFile(file);
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    boxes.push(bytes.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  const sei = /x264 - core [^\0]*/.exec(bytes.toString('latin1'))?.[0] ?? '';
  const x264 = new Map(sei.split(' ').filter((part) => part.includes('=')).map((part) => part.split('=', 2) as [string, string]));
  return {
    video: { codec: v.codec_name, width: v.width, height: v.height, rFrameRate: v.r_frame_rate, avgFrameRate: v.avg_frame_rate, bitRate: Number(v.bit_rate) },
    audio: a && { codec: a.codec_name, sampleRate: Number(a.sample_rate), channels: a.channels },
    ptsSteps: packets.slice(1).map((p, i) => p.pts - packets[i]!.pts),
    keyframes: packets.flatMap((p, i) => (p.flags.includes('K') ? [i] : [])),
    frames: packets.length,
    boxes,
    x264,
  };
}

describe('platform presets: each renders at its size with its encoding rules, and a job that breaks a rule is refused', () => {
  let service: TestService;
  let photo: Buffer;
  let music: Buffer;

  beforeAll(async () => {
    service = await startTestService();
    photo = await readFile(await makeTestImage(path.join(service.dir, 'photo.jpg'), 1200, 1200));
    const song = path.join(service.dir, 'song.wav');
    // 44.1 kHz mono: the preset's AAC is 48 kHz stereo whatever the music is
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2', '-ac', '1', song]);
    music = await readFile(song);
  });

  afterAll(async () => {
    await service?.close();
  });

  /** A multipart job: the photo (and the music), with these options. */
  async function submit(options: Record<string, unknown>, { withMusic = true, image = photo } = {}): Promise<Response> {
    const form = new FormData();
    form.append('images', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), 'photo.jpg');
    if (withMusic) form.append('audio', new Blob([new Uint8Array(music)], { type: 'audio/wav' }), 'song.wav');
    form.append('options', JSON.stringify(options));
    return fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form });
  }

  async function render(options: Record<string, unknown>, more: Parameters<typeof submit>[1] = {}): Promise<{ job: Record<string, any>; file: string }> {
    const created = await submit(options, more);
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 180_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const response = await fetch(job.result.video_url, { headers: auth });
    const file = path.join(service.dir, `${job.id}.mp4`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    return { job, file };
  }

  /** Every platform at its preset size: 1 s, or its shortest duration when it has one (the preset sets it: the job sends none). */
  const ROWS = PLATFORMS.map((platform) => ({ platform, options: PLATFORM_SPECS[platform].duration_s.min ? { platform } : { platform, duration_s: 1 } }));
  const rendered = new Map<Platform, { job: Record<string, any>; encoded: Encoded }>();

  it.each(ROWS)('$platform: size, constant frame rate, closed GOP, AAC 48 kHz, bitrate cap, moov before mdat', async ({ platform, options }) => {
    const spec = PLATFORM_SPECS[platform];
    const { job, file } = await render(options);
    const encoded = await probeEncoding(file);
    rendered.set(platform, { job, encoded });
    const effective = withPlatformPreset(options, 1);
    const encoding = platformEncoding(effective)!;
    const fps = spec.fps.preset;
    const size = outputSize(spec.aspect_ratio.preset, spec.resolution);
    const seconds = effective.duration_s!;

    expect(encoded.video).toMatchObject({ codec: 'h264', ...size, rFrameRate: `${fps}/1`, avgFrameRate: `${fps}/1` });
    expect(job.result).toMatchObject({ ...size, duration_s: seconds });
    // constant frame rate: every frame lasts the same
    expect(encoded.frames).toBe(seconds * fps);
    expect(new Set(encoded.ptsSteps).size).toBe(1);
    // a keyframe exactly every GOP and nowhere else; x264 wrote a closed GOP of that length, no scene-cut keyframes
    const gop = Math.round(spec.gop_s * fps);
    expect(encoded.keyframes).toEqual(Array.from({ length: Math.ceil(encoded.frames / gop) }, (_, i) => i * gop));
    expect(Object.fromEntries(['keyint', 'keyint_min', 'scenecut', 'open_gop', 'bframes'].map((key) => [key, encoded.x264.get(key)]))).toEqual({
      keyint: String(gop),
      keyint_min: String(Math.min(gop, Math.floor(gop / 2) + 1)),
      scenecut: '0',
      open_gop: '0',
      bframes: '2',
    });
    expect(Number(encoded.x264.get('vbv_maxrate'))).toBeLessThanOrEqual(encoding.max_kbps);
    expect(encoded.audio).toEqual({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(encoded.video.bitRate).toBeLessThanOrEqual(encoding.max_kbps * 1000);
    // faststart: the index before the media data
    expect(encoded.boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(encoded.boxes.indexOf('moov')).toBeLessThan(encoded.boxes.indexOf('mdat'));
    expect(job.options).toEqual(options);
  });

  it("the bitrate cap holds where the picture would need more: YouTube's 5 Mbit/s at 720p", async () => {
    const noisy = await readFile(await makeLargePhoto(path.join(service.dir, 'noisy.jpg'), 1280, 1280));
    const options = { duration_s: 1, aspect_ratio: '16:9', resolution: '720p', motion: 'zoom-in', motion_intensity: 'strong' };
    const plain = await probeEncoding((await render(options, { withMusic: false, image: noisy })).file);
    const capped = await probeEncoding((await render({ ...options, platform: 'youtube' }, { withMusic: false, image: noisy })).file);
    expect(plain.video.bitRate).toBeGreaterThan(5_000_000);
    expect(capped.video.bitRate).toBeLessThanOrEqual(5_000_000);
    expect(capped.audio).toBeUndefined();
  });

  const REFUSED = [
    { options: { platform: 'google-merchant', duration_s: 5 }, rule: 'min_duration_s', value: 5, limit: 6 },
    { options: { platform: 'amazon', duration_s: 50 }, rule: 'max_duration_s', value: 50, limit: 45 },
    { options: { platform: 'tiktok', aspect_ratio: '16:9' }, rule: 'aspect_ratio', value: '16:9', limit: ['9:16'] },
    { options: { platform: 'amazon', fps: 60 }, rule: 'fps', value: 60, limit: [24, 25, 30] },
  ];

  it.each(REFUSED)('refuses $options.platform with $rule = $value at submit: 422 platform_constraint naming the rule', async ({ options, rule, value, limit }) => {
    for (const response of [await postJob(service.url, { images: ['https://shop.example/p.jpg'], options }), await submit(options)]) {
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as Record<string, any>;
      expect(problem).toMatchObject({ status: 422, code: 'platform_constraint', platform: options.platform, rule, value, limit });
      expect(problem.detail).toContain(String(value));
      expect(problem.violations).toEqual([expect.objectContaining({ rule, value, limit, source: PLATFORM_SPECS[options.platform as Platform].sources[0] })]);
    }
    // nothing was queued or stored
    const list = (await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: { options: Record<string, unknown> }[] };
    expect(list.data.filter((job) => JSON.stringify(job.options) === JSON.stringify(options))).toEqual([]);
  });

  it('names every broken rule, and refuses a batch item and a revision that break their platform', async () => {
    const both = await postJob(service.url, { images: ['https://shop.example/p.jpg'], options: { platform: 'amazon', duration_s: 50, fps: 60, aspect_ratio: '1:1' } });
    expect(both.status).toBe(422);
    expect(((await both.json()) as { violations: { rule: string }[] }).violations.map((v) => v.rule)).toEqual(['max_duration_s', 'aspect_ratio', 'fps']);

    const batch = await fetch(`${service.url}/v1/batches`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ images: ['https://shop.example/a.jpg'] }, { images: ['https://shop.example/b.jpg'], options: { platform: 'instagram-reels', duration_s: 2 } }] }),
    });
    expect(batch.status).toBe(422);
    expect((await batch.json()) as Record<string, unknown>).toMatchObject({ code: 'platform_constraint', rule: 'min_duration_s', detail: expect.stringContaining('body.items.1.options') });

    const parent = rendered.get('google-merchant');
    expect(parent).toBeDefined();
    const revision = await fetch(`${service.url}/v1/jobs/${parent!.job.id}/revisions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ options: { duration_s: 3 } }),
    });
    expect(revision.status).toBe(422);
    expect((await revision.json()) as Record<string, unknown>).toMatchObject({ code: 'platform_constraint', platform: 'google-merchant', rule: 'min_duration_s', value: 3, limit: 6 });
  });
});
