import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const BIN = fileURLToPath(new URL('../../bin/i2v.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunningCli {
  /** resolves when what the command wrote so far matches */
  printed(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<Exit>;
}

/** `i2v <args>` as a child process, as a user would run it (stdout and stderr are pipes, not a terminal). */
function startCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((check) => check());
  child.stdout.on('data', (d) => ((stdout += d), changed()));
  child.stderr.on('data', (d) => ((stderr += d), changed()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      changed();
      resolve({ code, stdout, stderr });
    });
  });
  return {
    exited,
    printed(pattern, waitMs = 30_000) {
      return new Promise((resolve, reject) => {
        const giveUp = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`i2v ${args.join(' ')} did not print ${pattern} in ${waitMs} ms:\n${stdout}\n${stderr}`));
        }, waitMs);
        function check() {
          const match = (stdout + stderr).match(pattern);
          if (!match) return;
          clearTimeout(giveUp);
          waiters.delete(check);
          resolve(match);
        }
        waiters.add(check);
        check();
      });
    },
  };
}

const runCli = (args: string[], env: Record<string, string>) => startCli(args, env).exited;

describe('the i2v client commands against a running service', () => {
  let service: TestService;
  let env: Record<string, string>;
  let photo: string;
  let photoServer: Server;
  let photoUrl: string;
  let music: string;

  beforeAll(async () => {
    service = await startTestService();
    env = { I2V_URL: service.url, I2V_API_KEY: 'dev-key' };
    photo = await makeTestImage(path.join(service.dir, 'front.jpg'), 320, 240);
    const second = await makeTestImage(path.join(service.dir, 'back.jpg'), 240, 320);
    music = path.join(service.dir, 'tune.mp3');
    await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', music]);
    // a shop's image server, for a picture given by URL (the test config allows 127.0.0.1)
    photoServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      createReadStream(second).pipe(response);
    });
    await new Promise<void>((resolve) => photoServer.listen(0, '127.0.0.1', resolve));
    photoUrl = `http://127.0.0.1:${(photoServer.address() as AddressInfo).port}/p/back.jpg`;
  });

  afterAll(async () => {
    await new Promise((resolve) => photoServer?.close(resolve));
    await service?.close();
  });

  let jobId = '';

  it('animate --output refuses a rendition it cannot read, before submitting anything', async () => {
    const refused = await runCli(['animate', photo, '--output', '1:1:avi'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('aspect:resolution:format');
    expect(refused.stderr).not.toContain('submitted');
  });

  it('animate: a local photo and one by URL, with a caption and music, followed stage by stage and downloaded', async () => {
    const target = path.join(service.dir, 'clip.mp4');
    const result = await runCli(
      ['animate', photo, photoUrl, '--aspect', '1:1', '--resolution', '720p', '--duration', '2', '--motion', 'zoom-in', '--text', 'Summer Sale', '--audio', music, '-o', target],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(target);

    jobId = /submitted (job_[0-9a-z]{26})/.exec(result.stderr)?.[1] ?? '';
    expect(jobId).not.toBe('');
    // not a terminal: one plain line per stage, no redrawn bar
    expect(result.stderr).not.toContain('\r');
    const stages = result.stderr.split('\n').map((line) => line.split(' ')[0]);
    expect(stages).toEqual(expect.arrayContaining(['uploading', 'rendering', 'succeeded']));
    expect(stages.indexOf('rendering')).toBeLessThan(stages.indexOf('succeeded'));
    expect(result.stderr).toContain('video: 720×720, 2.0 s');

    const media = await probeMedia(target);
    expect(media.video).toMatchObject({ codec: 'h264', width: 720, height: 720 });
    expect(media.durationS).toBeGreaterThan(1.8);
    expect(media.durationS).toBeLessThan(2.3);
    expect(media.audio?.codec).toBe('aac');
    expect(existsSync(`${target}.part`)).toBe(false);

    const job = (await (await fetch(`${service.url}/v1/jobs/${jobId}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as Record<string, any>;
    expect(job.options).toMatchObject({ aspect_ratio: '1:1', resolution: '720p', duration_s: 2, motion: 'zoom-in' });
    expect(job.options.text[0]).toMatchObject({ text: 'Summer Sale', start_s: 0, end_s: 2 });
    expect(job.options.audio.url).toMatch(/^upload:upl_/);
    expect(job.result.timeline_summary).toContain('Video: 2 clips (0-2s)');
    expect(job.result.timeline_summary).toContain('BGM: tune.mp3');
    expect(job.result.timeline_summary).toContain('Title: "Summer Sale"');
  });

  it('status and jobs show that job', async () => {
    expect(jobId).not.toBe('');
    const status = await runCli(['status', jobId], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^id: +${jobId}$`, 'm'));
    expect(status.stdout).toMatch(/^status: +succeeded$/m);
    expect(status.stdout).toMatch(/^video: +720×720, 2\.0 s, \d+ KiB$/m);

    const jobs = await runCli(['jobs'], env);
    expect(jobs.code, jobs.stderr).toBe(0);
    const [header, first] = jobs.stdout.trim().split('\n');
    expect(header).toMatch(/^ID +STATUS +STAGE +PROGRESS +CREATED$/);
    expect(first).toMatch(new RegExp(`^${jobId} +succeeded +done +100% +\\d{4}-`));

    const json = await runCli(['jobs', '--json', '--limit', '1'], env);
    expect(JSON.parse(json.stdout).data.map((job: { id: string }) => job.id)).toEqual([jobId]);
  });

  it('animate --template --merge: a job from a saved template, its values as given', async () => {
    const saved = await fetch(`${service.url}/v1/templates`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-key', 'content-type': 'application/json' },
      body: JSON.stringify({ body: { images: ['{{image_url}}'], options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p', text: [{ text: '{{title}}', start_s: 0, end_s: 1 }] } } }),
    });
    const template = (await saved.json()) as { id: string };
    const target = path.join(service.dir, 'from-template.mp4');
    const result = await runCli(['animate', '--template', template.id, '--merge', `image_url=${photoUrl}`, '--merge', 'title=Oak "chair" = {50%}', '-o', target], env);
    expect(result.code, result.stderr).toBe(0);
    const id = /submitted (job_[0-9a-z]{26})/.exec(result.stderr)?.[1];
    const job = (await (await fetch(`${service.url}/v1/jobs/${id}`, { headers: { authorization: 'Bearer dev-key' } })).json()) as Record<string, any>;
    expect(job).toMatchObject({ status: 'succeeded', template: { id: template.id, version: 1 } });
    expect(job.options.text[0].text).toBe('Oak "chair" = {50%}');
    expect((await probeMedia(target)).video).toMatchObject({ width: 720, height: 720 });

    const missing = await runCli(['animate', '--template', template.id, '--merge', `image_url=${photoUrl}`], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('placeholder_missing');
  });

  it('cancel stops a job that animate is following; animate then exits non-zero, and a second cancel is refused', async () => {
    const idle = await startTestService({ worker: false }); // no worker: the job stays queued
    const idleEnv = { I2V_URL: idle.url, I2V_API_KEY: 'dev-key' };
    try {
      const animate = startCli(['animate', photo, '--aspect', '1:1', '--resolution', '720p', '--duration', '1'], idleEnv);
      const [, id] = await animate.printed(/submitted (job_[0-9a-z]{26})/);
      await animate.printed(/^queued/m);

      const cancel = await runCli(['cancel', id!], idleEnv);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(cancel.stdout.trim()).toBe(`${id} canceled`);

      const followed = await animate.exited;
      expect(followed.code).toBe(1);
      expect(followed.stderr).toContain(`error: job ${id} canceled`);
      expect(followed.stdout).toBe('');

      const again = await runCli(['cancel', id!], idleEnv);
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe(`Job already ended: Job ${id} is canceled; only queued or running jobs can be canceled. (job_finished)`);

      const status = await runCli(['status', id!], idleEnv);
      expect(status.stdout).toMatch(/^status: +canceled$/m);
    } finally {
      await idle.close();
    }
  });

  it('print the problem title and detail and exit 1 when the API refuses', async () => {
    const badKey = { ...env, I2V_API_KEY: 'not-a-key' };
    const jobs = await runCli(['jobs'], badKey);
    expect(jobs.code).toBe(1);
    expect(jobs.stderr.trim()).toBe('Unauthorized: The API key is not valid. (unauthorized)');
    expect(jobs.stdout).toBe('');

    const animate = await runCli(['animate', photo, '-o', path.join(service.dir, 'never.mp4')], badKey);
    expect(animate.code).toBe(1);
    expect(animate.stderr.trim()).toBe('Unauthorized: The API key is not valid. (unauthorized)');
    expect(existsSync(path.join(service.dir, 'never.mp4'))).toBe(false);

    const missing = await runCli(['status', 'job_00000000000000000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Job not found: There is no job job_00000000000000000000000000. (not_found)');

    const tooLong = await runCli(['animate', photo, '--duration', '90'], env);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^Invalid request: body\.options\.duration_s: .*\(validation_failed\)$/m);

    const tooShort = await runCli(['animate', photo, '--platform', 'google-merchant', '--duration', '5'], env);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr.trim()).toBe('Breaks a platform rule: body.options: Google Merchant Center takes videos of at least 6 s; duration_s is 5 (docs/platforms.md) (platform_constraint)');
  });

  it('say so when the API cannot be reached, or a file does not exist', async () => {
    const unreachable = await runCli(['jobs'], { I2V_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('Cannot reach the API: http://127.0.0.1:9: ECONNREFUSED');

    const noFile = await runCli(['animate', path.join(service.dir, 'nope.jpg')], env);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('nope.jpg: no such file');
  });
});
