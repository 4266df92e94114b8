import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../src/shared/infra/process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { startStandInCloud, type StandInCloud } from '../helpers/stand-in-cloud.ts';

const auth = { authorization: 'Bearer dev-key' };

const RENDITIONS = [
  { aspect_ratio: '9:16', resolution: '720p', format: 'mp4' },
  { aspect_ratio: '1:1', resolution: '720p', format: 'webm' },
  { aspect_ratio: '16:9', resolution: '720p', format: 'gif' },
  { aspect_ratio: '4:5', resolution: '720p', format: 'mp4-hevc' },
] as const;

interface Probed {
  format: string;
  video: { codec: string; width: number; height: number; tag: string };
  audio?: { codec: string };
  durationS: number;
}

async function probe(file: string): Promise<Probed> {
  const { stdout } = await runProcess('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', `file:${file}`]);
  const data = JSON.parse(stdout) as { streams: Record<string, any>[]; format: Record<string, any> };
  const video = data.streams.find((s) => s.codec_type === 'video')!;
  const audio = data.streams.find((s) => s.codec_type === 'audio');
  return {
    format: data.format.format_name,
    video: { codec: video.codec_name, width: video.width, height: video.height, tag: video.codec_tag_string },
    ...(audio && { audio: { codec: audio.codec_name } }),
    durationS: Number(data.format.duration),
  };
}

async function jobForm(photo: Buffer, music: Buffer | undefined, options: unknown): Promise<FormData> {
  const form = new FormData();
  form.append('images', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  if (music) form.append('audio', new Blob([new Uint8Array(music)], { type: 'audio/wav' }), 'music.wav');
  form.append('options', JSON.stringify(options));
  return form;
}

describe('renditions: one job, one clip in several sizes and formats', () => {
  let service: TestService;
  let photo: Buffer;
  let music: Buffer;

  beforeAll(async () => {
    service = await startTestService();
    photo = await readFile(await makeTestImage(path.join(service.dir, 'photo.jpg'), 800, 600));
    const musicPath = path.join(service.dir, 'music.wav');
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-ac', '2', '-ar', '44100', '-y', musicPath]);
    music = await readFile(musicPath);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('renders four renditions in one job, each listed in result.outputs and served with its own type and ranges', async () => {
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, music, { duration_s: 1.5, motion: 'zoom-in', outputs: RENDITIONS }) });
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 180_000);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const outputs = job.result.outputs as Record<string, any>[];
    expect(outputs.map((o) => [o.aspect_ratio, o.resolution, o.format, o.width, o.height])).toEqual([
      ['9:16', '720p', 'mp4', 720, 1280],
      ['1:1', '720p', 'webm', 720, 720],
      ['16:9', '720p', 'gif', 1280, 720],
      ['4:5', '720p', 'mp4-hevc', 720, 900],
    ]);
    // the job's video is its first rendition
    expect([job.result.width, job.result.height]).toEqual([720, 1280]);
    expect(outputs[0]!.video_url).toBe(`${service.url}/v1/jobs/${job.id}/outputs/0/video`);

    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-renditions-'));
    try {
      const expected = [
        { type: 'video/mp4', container: 'mov', codec: 'h264', audio: 'aac' },
        { type: 'video/webm', container: 'matroska,webm', codec: 'vp9', audio: 'opus' },
        { type: 'image/gif', container: 'gif', codec: 'gif', audio: undefined },
        { type: 'video/mp4', container: 'mov', codec: 'hevc', audio: 'aac' },
      ];
      for (const [n, output] of outputs.entries()) {
        const served = await fetch(output.video_url, { headers: auth });
        expect([served.status, served.headers.get('content-type')], `rendition ${n}`).toEqual([200, expected[n]!.type]);
        const bytes = Buffer.from(await served.arrayBuffer());
        expect(bytes.length).toBe(output.size_bytes);
        const file = path.join(dir, `${n}.${output.format === 'gif' ? 'gif' : output.format === 'webm' ? 'webm' : 'mp4'}`);
        await writeFile(file, bytes);
        const probed = await probe(file);
        expect(probed.format, `rendition ${n}`).toContain(expected[n]!.container);
        expect([probed.video.codec, probed.video.width, probed.video.height, probed.audio?.codec], `rendition ${n}`).toEqual([expected[n]!.codec, output.width, output.height, expected[n]!.audio]);
        expect(probed.durationS).toBeCloseTo(1.5, 0);
        if (output.format === 'mp4-hevc') expect(probed.video.tag).toBe('hvc1');
        const poster = await fetch(output.poster_url, { headers: auth });
        expect([poster.status, poster.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
        await poster.arrayBuffer();
      }
      const range = await fetch(outputs[1]!.video_url, { headers: { ...auth, range: 'bytes=0-99' } });
      expect([range.status, (await range.arrayBuffer()).byteLength]).toEqual([206, 100]);
      const main = Buffer.from(await (await fetch(job.result.video_url, { headers: auth })).arrayBuffer());
      expect(main.equals(await readFile(path.join(dir, '0.mp4')))).toBe(true);
      const beyond = await fetch(`${service.url}/v1/jobs/${job.id}/outputs/4/video`, { headers: auth });
      expect([beyond.status, ((await beyond.json()) as { code: string }).code]).toEqual([404, 'not_found']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 200_000);

  it('lists the one video of a job that asked for no renditions as its only output', async () => {
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, undefined, { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }) });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 120_000);
    expect(job.result.outputs).toEqual([
      { aspect_ratio: '1:1', resolution: '720p', format: 'mp4', width: 720, height: 720, duration_s: job.result.duration_s, size_bytes: job.result.size_bytes, video_url: `${service.url}/v1/jobs/${job.id}/outputs/0/video`, poster_url: `${service.url}/v1/jobs/${job.id}/outputs/0/poster` },
    ]);
  }, 150_000);

  it('refuses a rendition asked for twice with 422 invalid_outputs, and stores nothing', async () => {
    const before = ((await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: unknown[] }).data.length;
    const outputs = [{ format: 'gif' }, { aspect_ratio: '1:1', format: 'mp4' }, { format: 'gif' }];
    const refused = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, undefined, { aspect_ratio: '1:1', outputs }) });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    // item 2 repeats item 0: both are the job's own 1:1 as a GIF
    expect(await refused.json()).toMatchObject({ code: 'invalid_outputs', duplicates: [2] });
    const after = ((await (await fetch(`${service.url}/v1/jobs?limit=100`, { headers: auth })).json()) as { data: unknown[] }).data.length;
    expect(after).toBe(before);
    const tooMany = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, undefined, { outputs: Array.from({ length: 7 }, () => ({})) }) });
    expect(tooMany.status).toBe(400);
  });
});

describe('renditions from a backend that makes one video per render', () => {
  let cloud: StandInCloud;
  let service: TestService;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-renditions-cloud-'));
    cloud = await startStandInCloud({ dir });
    service = await startTestService({ backendUrl: () => cloud.url, env: { JOB_BACKOFF_MS: '100' } });
  });
  afterAll(async () => {
    await service?.close();
    await cloud?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails outputs_unsupported, not retryable, and renders once', async () => {
    const photo = await readFile(await makeTestImage(path.join(dir, 'photo.jpg'), 320, 240));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: await jobForm(photo, undefined, { duration_s: 1, outputs: [{ format: 'mp4' }, { format: 'gif' }] }) });
    const job = await waitForJob(service.url, ((await created.json()) as { id: string }).id, 'dev-key', 120_000);
    expect([job.status, job.error?.code, job.error?.retryable]).toEqual(['failed', 'outputs_unsupported', false]);
    expect(cloud.requestsOf('render')).toHaveLength(1);
  }, 150_000);
});
