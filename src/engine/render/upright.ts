import { rm } from 'node:fs/promises';
import path from 'node:path';
import { localFileInput, probeInput } from '../../shared/media/ffmpeg-input.ts';
import { runProcess } from '../../shared/infra/process.ts';
import { backendKindOf } from '../../shared/media/media-formats.ts';
import { newStorageName } from '../store/ids.ts';

/**
 * Phone photos are often stored turned, with an EXIF Orientation tag saying
 * how to show them. ffmpeg 5.1 reads the tag but does not apply it to images,
 * so an upload is turned upright once, here, and everything after (sizes in
 * the upload reply, the renderer) sees the photo as people do.
 */
const UPRIGHT_FILTERS: Readonly<Record<number, string>> = {
  2: 'hflip',
  3: 'hflip,vflip',
  4: 'vflip',
  5: 'transpose=cclock_flip',
  6: 'transpose=clock',
  7: 'transpose=clock_flip',
  8: 'transpose=cclock',
};

const TIMEOUT_MS = 60_000;

export async function exifOrientation(imagePath: string): Promise<number> {
  const { stdout } = await runProcess(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#1', '-show_entries', 'frame_tags=Orientation', '-of', 'json', ...probeInput(imagePath)],
    { timeoutMs: TIMEOUT_MS },
  );
  const data = JSON.parse(stdout) as { frames?: { tags?: { Orientation?: string } }[] };
  return Number(data.frames?.[0]?.tags?.Orientation ?? 1) || 1;
}

/** An upright, lossless PNG in place of an image stored turned; other files stay as they are. */
export async function uprightImage<T extends { name: string; path: string }>(file: T): Promise<T> {
  if (backendKindOf(file.path) !== 'image') return file;
  const filter = UPRIGHT_FILTERS[await exifOrientation(file.path).catch(() => 1)];
  if (!filter) return file;
  const name = newStorageName('png');
  const uprightPath = path.join(path.dirname(file.path), name);
  await runProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-noautorotate', ...localFileInput(file.path), '-vf', filter, '-frames:v', '1', '-f', 'image2', '-c:v', 'png', `file:${uprightPath}`],
    { timeoutMs: TIMEOUT_MS },
  );
  await rm(file.path, { force: true });
  return { ...file, name, path: uprightPath };
}
