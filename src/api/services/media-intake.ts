import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { imageSize } from 'image-size';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import type { InputRole } from '../../shared/jobs/job-record.ts';
import { claimConflict } from '../../shared/media/media-claims.ts';
import { acceptsForRole, isStill, roleFormatNames, sniffMedia, SNIFF_BYTES } from '../../shared/media/media-formats.ts';
import type { Storage } from '../../shared/storage/storage.ts';

/** Enough of a file's start to hold its dimensions (a JPEG's EXIF block comes first). */
const HEADER_BYTES = 256 * 1024;

export interface StoredMedia {
  key: string;
  role: InputRole;
  ext: string;
  mime: string;
  sizeBytes: number;
  /** of the content, so an idempotent replay can tell the same file from another */
  sha256: string;
}

/**
 * Refuses a picture whose declared size exceeds the pixel limit as soon as
 * its header has arrived, before the rest is stored or anything decodes it.
 */
function pixelLimit(maxPixels: number, filename: string): Transform {
  let head = Buffer.alloc(0);
  let checked = false;
  const check = () => {
    checked = true;
    let size: { width?: number; height?: number };
    try {
      size = imageSize(head);
    } catch {
      return undefined; // header not readable here; the engine probes it again
    }
    const pixels = (size.width ?? 0) * (size.height ?? 0);
    if (pixels > maxPixels) {
      return new ProblemError('image_too_large', 'Image too large',
        `"${filename}" is ${size.width}×${size.height} (${Math.round(pixels / 1e6)} MP); the limit is ${Math.round(maxPixels / 1e6)} MP`);
    }
    return undefined;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!checked) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= HEADER_BYTES) return done(check(), chunk);
      }
      done(null, chunk);
    },
    flush(done) {
      done(checked ? null : check());
    },
  });
}

/**
 * The first bytes of a stream, and the whole stream again to go on with.
 * Read through the stream's iterator, which also settles for a stream that
 * has already ended (an empty part) or failed (a part cut short), where
 * waiting for its events would wait forever.
 */
async function peek(source: Readable, bytes: number): Promise<{ head: Buffer; whole: Readable; drain(): void }> {
  const chunks = source[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    read.push(next.value as Buffer);
    length += (next.value as Buffer).length;
  }
  async function* rest() {
    yield* read;
    if (!ended) for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
  }
  return {
    head: Buffer.concat(read),
    whole: Readable.from(rest(), { objectMode: false }),
    // the part is refused: read the rest of it away so the form can be answered
    drain: () => void (async () => {
      if (!ended) for (let next = await chunks.next(); !next.done; next = await chunks.next());
    })().catch(() => {}),
  };
}

/**
 * Streams one uploaded file into storage at `keyBase` + its real extension,
 * after checking what it is. `roles` says what the part may be; a file whose
 * name or `declaredType` says it is another format than its content is refused.
 */
export async function storeMedia(
  source: Readable & { truncated?: boolean },
  filename: string,
  roles: readonly InputRole[],
  storage: Storage,
  keyBase: string,
  maxPixels: number,
  declaredType?: string,
): Promise<StoredMedia> {
  const { head, whole, drain } = await peek(source, SNIFF_BYTES);
  // what a file is comes from its content, never from its name or declared type
  const sniffed = await sniffMedia(head);
  const format = sniffed?.format;
  const role = roles.find((r) => acceptsForRole(r, format));
  if (!sniffed || !format || !role) {
    drain();
    const found = sniffed ? sniffed.mime : head.length === 0 ? 'empty' : 'not a recognised format';
    const wanted = roles.map((r) => roleFormatNames(r)).join('; or ');
    throw new ProblemError('unsupported_media_type', 'Unsupported media type', `"${filename}" is ${found}; send ${wanted}`);
  }
  const { ext, mime } = format;
  const conflict = claimConflict(mime, { filename, contentType: declaredType });
  if (conflict) {
    drain();
    throw new ProblemError('unsupported_media_type', 'Unsupported media type', `"${filename}" ${conflict}; send files as what they are`);
  }
  const key = `${keyBase}.${ext}`;
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const checks = isStill(format) ? [hashing, pixelLimit(maxPixels, filename)] : [hashing];
  const { sizeBytes } = await storage.write(key, whole, checks);
  return { key, role, ext, mime, sizeBytes, sha256: hash.digest('hex') };
}
