import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeMedia } from '../../src/api/services/media-intake.ts';
import { renderIndexPage } from '../../src/api/http/routes/web-page.ts';
import { runProcess } from '../../src/shared/infra/process.ts';
import { claimConflict } from '../../src/shared/media/media-claims.ts';
import { backendKindOf, formatOfMime, mimeTypeFor, sniffMediaFile, type MediaKind } from '../../src/shared/media/media-formats.ts';
import { LocalStorage } from '../../src/shared/storage/local-storage.ts';

// Real files, made by ffmpeg as a user's camera, editor or phone would, for every
// format ffmpeg writes: what the service makes of each is read from the one table.
const STILL = ['-f', 'lavfi', '-i', 'testsrc2=s=64x48', '-frames:v', '1'];
const CLIP = ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:d=0.4', '-pix_fmt', 'yuv420p'];
const SOUND = ['-f', 'lavfi', '-i', 'sine=d=0.4'];
const SAMPLES: { file: string; made: MediaKind; args: string[] }[] = [
  { file: 'photo.jpg', made: 'image', args: STILL },
  { file: 'photo.png', made: 'image', args: STILL },
  { file: 'photo.webp', made: 'image', args: STILL },
  { file: 'photo.gif', made: 'image', args: STILL },
  { file: 'photo.bmp', made: 'image', args: STILL },
  { file: 'photo.tif', made: 'image', args: STILL },
  { file: 'clip.mp4', made: 'video', args: CLIP },
  { file: 'clip.mov', made: 'video', args: CLIP },
  { file: 'clip.webm', made: 'video', args: CLIP },
  { file: 'clip.mkv', made: 'video', args: CLIP },
  { file: 'clip.avi', made: 'video', args: CLIP },
  { file: 'song.mp3', made: 'audio', args: SOUND },
  { file: 'song.wav', made: 'audio', args: SOUND },
  { file: 'song.m4a', made: 'audio', args: SOUND },
  { file: 'song.aac', made: 'audio', args: SOUND },
  { file: 'song.ogg', made: 'audio', args: SOUND },
  { file: 'song.flac', made: 'audio', args: SOUND },
];
const ROLE_OF: Record<MediaKind, 'image' | 'audio'> = { image: 'image', video: 'image', audio: 'audio' };

let dir: string;
let storage: LocalStorage;
let page: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'i2v-formats-'));
  storage = new LocalStorage(path.join(dir, 'store'));
  await Promise.all(SAMPLES.map(({ file, args }) => runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, path.join(dir, file)], { timeoutMs: 60_000 })));
  page = await renderIndexPage();
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether a file input's `accept` list lets the picker offer a file of this name and type. */
function offers(accept: string, filename: string, mime: string): boolean {
  const entries = accept.split(',').map((entry) => entry.trim().toLowerCase());
  return entries.includes(path.extname(filename).toLowerCase()) || entries.includes(mime);
}

function acceptOf(inputId: string): string {
  const match = new RegExp(`<input id="${inputId}"[^>]*\\saccept="([^"]*)"`).exec(page);
  if (!match) throw new Error(`the page has no accept list on #${inputId}`);
  return match[1]!;
}

async function intake(file: string, role: 'image' | 'audio') {
  return storeMedia(createReadStream(path.join(dir, file)), file, [role], storage, `inputs/t/${path.parse(file).name}-${role}`, 100_000_000).then(
    (stored) => stored,
    (error: unknown) => error as Error,
  );
}

describe.each(SAMPLES)('$file', ({ file, made }) => {
  it('is sniffed as the kind it was made as, under the MIME its name stands for', async () => {
    const sniffed = await sniffMediaFile(path.join(dir, file));
    expect(sniffed?.format?.kind).toBe(made);
    expect(sniffed?.format?.mime).toBe(mimeTypeFor(file));
    // file-type's own spelling of the type is one the table knows
    expect(formatOfMime(sniffed!.mime)).toBe(sniffed?.format);
    expect(claimConflict(sniffed!.format!.mime, { filename: file, contentType: mimeTypeFor(file) })).toBeUndefined();
  });

  it('the API takes it exactly when the page offers it, stores it under its own MIME, and the engine reads it as its kind', async () => {
    const role = ROLE_OF[made];
    const stored = await intake(file, role);
    const accepted = !(stored instanceof Error);
    const picker = role === 'audio' ? 'audio' : 'images';
    expect(offers(acceptOf(picker), file, mimeTypeFor(file)), `page offers ${file}`).toBe(accepted);
    if (accepted) {
      expect(stored).toMatchObject({ role, mime: mimeTypeFor(file), ext: path.extname(file).slice(1) });
      expect(backendKindOf(stored.key)).toBe(made);
    } else {
      expect(stored).toMatchObject({ code: 'unsupported_media_type' });
    }
    // never for the other role
    const other = await intake(file, role === 'audio' ? 'image' : 'audio');
    expect(other).toMatchObject({ code: 'unsupported_media_type' });
    expect(offers(acceptOf(role === 'audio' ? 'images' : 'audio'), file, mimeTypeFor(file))).toBe(false);
  });
});

it('the page takes the shop photos and music of the API, and no more', async () => {
  const accepted = await Promise.all(SAMPLES.map(async ({ file, made }) => ((await intake(file, ROLE_OF[made])) instanceof Error ? [] : [file])));
  expect(accepted.flat().sort()).toEqual(['clip.mov', 'clip.mp4', 'clip.webm', 'photo.gif', 'photo.jpg', 'photo.png', 'photo.webp', 'song.aac', 'song.m4a', 'song.mp3', 'song.wav']);
  expect(page).not.toContain('{{accept:');
});
