import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { probeMedia } from '../../shared/media/ffprobe.ts';
import { EngineError } from '../protocol/envelope.ts';
import { backendKindOf } from '../../shared/media/media-formats.ts';
import type { Session, StoredFile } from './sessions.ts';

/** Streams to disk, hashing on the way; nothing is held in memory. Returns the sha256. */
export async function writeHashed(source: Readable, destPath: string): Promise<string> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(destPath));
  } catch (error) {
    await rm(destPath, { force: true });
    throw error;
  }
  return hash.digest('hex');
}

export async function hashFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Probes a saved upload; a file ffprobe cannot read is refused like a wrong type (4001). */
export async function describeUpload(file: { name: string; filename: string; path: string; hash: string }): Promise<StoredFile> {
  const fileType = backendKindOf(file.path);
  const media = await probeMedia(file.path).catch(() => undefined);
  // ffprobe names a stream even for a file it cannot decode (then with no size or sample rate)
  const readable = fileType === 'audio' ? Boolean(media?.audio?.sampleRate) : Boolean(media?.video?.width && media.video.height);
  if (!fileType || !media || !readable) throw new EngineError(4001, `${file.filename} is not a readable ${fileType ?? 'media'} file`);
  return {
    ...file,
    sizeBytes: (await stat(file.path)).size,
    fileType,
    width: media.video?.width ?? 0,
    height: media.video?.height ?? 0,
    durationS: fileType === 'image' ? 0 : media.durationS,
    fps: fileType === 'video' ? (media.video?.fps ?? 0) : 0,
  };
}

export function fileUrl(base: string, sessionId: string, name: string): string {
  return `${base}/files/${sessionId}/${name}`;
}

/** A file as upload replies and `video_infos` show it. */
export function fileView(base: string, sessionId: string, file: StoredFile) {
  return {
    filename: file.filename,
    file_type: file.fileType,
    cdn_url: fileUrl(base, sessionId, file.name),
    duration: file.durationS,
    width: file.width,
    height: file.height,
    fps: file.fps,
    hash: file.hash,
  };
}

/** The session's file a draft `src` (a cdn_url of this engine, whatever host it names) points to. */
export function sessionFileForSrc(session: Session, src: string): StoredFile | undefined {
  let pathname: string;
  try {
    pathname = new URL(src, 'http://engine.invalid').pathname;
  } catch {
    return undefined;
  }
  const match = /^\/files\/(\d+)\/([^/]+)$/.exec(pathname);
  if (!match || match[1] !== session.id) return undefined;
  return session.files.find((file) => file.name === match[2]);
}
