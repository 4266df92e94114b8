import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDraft, parseInstruction, resolveSettings, type DraftPicture } from '../../src/shared/agent/index.ts';
import { buildRenderCommand } from '../../src/engine/render/ffmpeg-args.ts';
import { captionFileText, captionLayout } from '../../src/engine/render/captions.ts';
import { decoderArgs, preparedSize } from '../../src/engine/render/frame-source.ts';
import { planRender } from '../../src/engine/render/timeline.ts';
import { probeMedia } from '../../src/shared/media/ffprobe.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import type { JobOptions } from '../../src/shared/jobs/job-options.ts';
import { composeInstruction } from '../../src/shared/jobs/instruction.ts';
import { checkPicture } from '../../src/workers/picture-check.ts';

/**
 * User text (prompts, captions, file names) is data: it never becomes part of
 * an ffmpeg command line or filter graph, in any spelling. Every place it
 * could reach one is walked here: the worker composes the instruction from
 * the prompt and options, the engine's agent reads it into a draft (captions
 * and file names included), the renderer plans it and builds the decoder and
 * encoder commands.
 */

/** Marks user text: letters no command of ours contains, which no escaping changes. */
const MARK = 'QQZX';

/** Pieces of ffmpeg syntax, shell syntax and option-looking words. */
const hostilePiece = fc.constantFrom(
  "'", '"', ':', ';', ',', '[', ']', '\\', '=', '%{pts}', '%{eif\\:1\\:d}', '%{e:n}', '$(touch /tmp/i2v-pwned)', '`id`', '\n', '\r\n', '\t',
  ' -i ', '-f lavfi -i color', '-y', 'file:/etc/passwd', 'http://169.254.169.254/latest', 'concat:/etc/passwd|/etc/hosts', 'subfile,,start,0,end,10,,:/etc/passwd',
  'movie=/etc/passwd', 'drawtext=textfile=/etc/shadow', '[0:v]', 'null[vout];', ',scale=1:1', '\u2028', '😀', '「', '\ud800',
);

/** User text carrying the mark, with hostile pieces and arbitrary characters around it. */
const userText = fc
  .tuple(fc.array(hostilePiece, { maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.array(hostilePiece, { maxLength: 3 }))
  .map(([before, middle, after]) => `${before.join('')}${MARK}${middle}${after.join('')}`);

const ENGINE = 'http://127.0.0.1:8790';
const localPaths = new Map<string, string>();
const resolve = (src: string) => {
  const local = localPaths.get(src);
  if (!local) throw new Error(`unknown src ${src}`);
  return local;
};

/** Pictures and music as the engine stores them: generated names; the client's names only as `filename`. */
function media(names: string[], musicName: string): { pictures: DraftPicture[]; music: { src: string; filename: string } } {
  const pictures = names.map((filename, i) => {
    const src = `${ENGINE}/files/1/0000000${i}-aaaa-bbbb-cccc-dddddddddddd.jpg`;
    localPaths.set(src, `/data/engine/uploads/1/0000000${i}-aaaa-bbbb-cccc-dddddddddddd.jpg`);
    return { src, filename, kind: 'image' as const };
  });
  const src = `${ENGINE}/files/1/11111111-aaaa-bbbb-cccc-dddddddddddd.mp3`;
  localPaths.set(src, '/data/engine/uploads/1/11111111-aaaa-bbbb-cccc-dddddddddddd.mp3');
  return { pictures, music: { src, filename: musicName } };
}

/** Every ffmpeg command a render of this job would run, from the prompt to the encoder. */
function commandsFor(prompt: string, options: JobOptions, names: string[], musicName: string) {
  const { pictures, music } = media(names, musicName);
  const instruction = composeInstruction(prompt, options, { images: pictures.length, audio: true });
  const draft = buildDraft(resolveSettings(parseInstruction(instruction), pictures.length), pictures, music);
  const plan = planRender(draft, resolve);
  const captionFiles = plan.captions.map((_, i) => `/tmp/i2v-render-x/caption-${i}.txt`);
  const encoder = buildRenderCommand(plan, { outPath: '/data/engine/renders/out.mp4', captionFiles });
  const decoders = plan.videos.map((video) => decoderArgs(video, preparedSize(video, plan.geometry), plan.geometry.fps));
  return { plan, commands: [encoder, ...decoders] };
}

/** Inputs only through the protocol whitelist, to generated paths or the frame pipe. */
function expectGuardedInputs(args: string[]): void {
  expect(args[0]).toBe('-nostdin');
  args.forEach((arg, i) => {
    if (arg !== '-i') return;
    expect(args.slice(i - 2, i)).toEqual(['-protocol_whitelist', args[i + 1] === 'pipe:3' ? 'pipe' : 'file']);
    expect(args[i + 1]).toMatch(/^(pipe:3|file:\/data\/engine\/uploads\/1\/[0-9a-f-]{36}\.(jpg|mp3))$/);
  });
}

// the font is named: left unset, the glyphs a text needs choose between fixed font files (font.ts)
const captionOf = (text: string, position: 'top' | 'center' | 'bottom' = 'bottom') => ({ text, start_s: 0, end_s: 1, position, font: 'dejavu-sans' as const });

describe('text into ffmpeg: prompts, captions and file names are data', () => {
  it('no user text reaches any command line or filter graph, in any spelling', () => {
    fc.assert(
      fc.property(userText, fc.array(userText, { minLength: 1, maxLength: 3 }), fc.array(userText, { minLength: 1, maxLength: 3 }), userText, (prompt, captions, names, musicName) => {
        const options: JobOptions = { duration_s: 2, text: captions.map((text, i) => captionOf(text, (['top', 'center', 'bottom'] as const)[i % 3])) };
        const { plan, commands } = commandsFor(prompt, options, names, musicName);
        // the options' captions come last, exactly as sent
        expect(plan.captions.slice(-captions.length).map((caption) => caption.text)).toEqual(captions);
        for (const args of commands) {
          for (const arg of args) expect(arg).not.toContain(MARK);
          expectGuardedInputs(args);
        }
        // the captions' words are in their files, which drawtext reads verbatim
        for (const caption of plan.captions.slice(-captions.length)) {
          const file = captionFileText(captionLayout(caption, plan.geometry));
          expect(file.replace(/\s|…/g, '')).toContain(MARK.slice(0, 2));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the commands are the same whatever the captions and file names say', () => {
    const reference = commandsFor('Animate these photos.', { duration_s: 2, text: [captionOf('x')] }, ['a.jpg', 'b.jpg'], 'm.mp3').commands;
    fc.assert(
      fc.property(userText, userText, userText, userText, (caption, first, second, musicName) => {
        expect(commandsFor('Animate these photos.', { duration_s: 2, text: [captionOf(caption)] }, [first, second], musicName).commands).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ffmpeg runs without a shell, with -nostdin, reading local files only', () => {
  let dir: string;
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-ffmpeg-text-'));
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes arguments as they are: shell syntax in one is not run', async () => {
    const marker = path.join(dir, 'pwned');
    await expect(runProcess('ffprobe', ['-v', 'error', '-protocol_whitelist', 'file', `file:${dir}/x$(touch ${marker}).jpg`])).rejects.toThrow();
    await expect(runProcess('ffprobe', ['-v', 'error', '-protocol_whitelist', 'file', `file:${dir}/x;touch ${marker}`])).rejects.toThrow();
    expect(existsSync(marker)).toBe(false);
  });

  it('a file that is really a playlist of network URLs cannot make ffprobe or the decoder reach the network', async () => {
    const playlist = path.join(dir, 'photo.mp4');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:${port}/segment.ts\n#EXT-X-ENDLIST\n`);
    // the whitelist in force is ours ("file"), not ffmpeg's default for local files ("file,crypto,data")
    await expect(probeMedia(playlist)).rejects.toThrow(/Protocol 'http' not on whitelist 'file'!/);
    await expect(checkPicture(playlist, 'mp4', 'photo.mp4', { maxPixels: 1e8 })).rejects.toMatchObject({ code: 'invalid_media' });
    expect(hits).toEqual([]);
  });

  it('every ffmpeg and ffprobe in src is started through the guarded runners, with -nostdin, naming its input through the whitelist helpers', async () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const spawning: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(src, file), 'utf8');
      if (text.includes("from 'node:child_process'")) spawning.push(file);
      if (/runProcess\(\s*'ff(mpeg|probe)'|startFfmpeg\(|decoderArgs|buildRenderCommand\(/.test(text)) {
        expect(text, `${file} names an input without the protocol whitelist`).not.toMatch(/'-i',\s*`/);
      }
      // stdin is closed for every program the launcher starts; -nostdin also stops ffmpeg treating it as a console
      const ffmpegRuns = text.match(/runProcess\(\s*'ffmpeg'/g)?.length ?? 0;
      expect(text.match(/'-nostdin'/g)?.length ?? 0, `${file} runs ffmpeg without -nostdin`).toBeGreaterThanOrEqual(ffmpegRuns);
    }
    // runProcess's launcher (process-launcher*.ts) and ffmpeg-process.ts run ffmpeg; font.ts asks fc-match; private-redis.ts starts redis-server
    expect(spawning.sort()).toEqual([
      'cli/private-redis.ts', 'engine/render/ffmpeg-process.ts', 'engine/render/font.ts', 'shared/infra/process-launcher-child.ts', 'shared/infra/process-launcher.ts',
    ]);
  });

  it('every run has a time limit: a probe of a file that never ends is killed', async () => {
    const fifo = path.join(dir, 'never.mp4');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(probeMedia(fifo, { timeoutMs: 500 })).rejects.toThrow(/timed out after 500 ms/);
    await expect(checkPicture(fifo, 'mp4', 'never.mp4', { maxPixels: 1e8, timeoutMs: 500 })).rejects.toMatchObject({
      code: 'invalid_media',
      message: expect.stringContaining('could not be decoded within 0.5 s'),
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
