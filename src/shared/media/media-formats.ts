import path from 'node:path';
import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type';

/**
 * Every media format this service knows: what kind it is, its extensions
 * and MIME types, whether clients may send it and whether the render
 * backend takes it. The API's intake, the worker, the engine, storage and
 * the try-it page's file pickers all read this table. What a file is comes
 * from its content (magic bytes, read by file-type), never from its name.
 *
 * Sizes are settings, not formats: MAX_UPLOAD_MB bounds a file of any kind
 * and MAX_IMAGE_PIXELS a still picture (`isStill`).
 */
export type MediaKind = 'image' | 'video' | 'audio';

/** What an input is for: a picture (a still or a short clip), the music, or a logo (a still). */
export type MediaRole = 'image' | 'audio' | 'logo';

/** ISO base media files (mp4, mov, m4a…) differ only by a brand encoders set loosely; WebM is a Matroska profile. */
type Family = 'iso-bmff' | 'matroska';

export interface MediaFormat {
  /** file-type's extension, which stored and uploaded files are named with */
  ext: string;
  /** other spellings of the extension, taken like `ext` */
  otherExts: readonly string[];
  /** rarer extensions that name the format too (for what a file name claims) */
  namingExts: readonly string[];
  kind: MediaKind;
  /** the Content-Type it is stored, sent and reported with */
  mime: string;
  /** other spellings of the MIME type (file-type's own among them when it differs) */
  otherMimes: readonly string[];
  family?: Family;
  /** clients may send it (uploads, URL inputs) */
  clients: boolean;
  /** the render backend's upload takes it (the upstream protocol's list) */
  backend: boolean;
}

type Row = [
  ext: string,
  kind: MediaKind,
  mime: string,
  accepted: 'clients' | 'backend' | 'known',
  more?: { exts?: string[]; naming?: string[]; mimes?: string[]; family?: Family },
];

// The order is the order clients are told what to send.
const ROWS: readonly Row[] = [
  ['jpg', 'image', 'image/jpeg', 'clients', { exts: ['jpeg'], naming: ['jpe', 'jfif'], mimes: ['image/jpg', 'image/pjpeg'] }],
  ['png', 'image', 'image/png', 'clients'],
  ['webp', 'image', 'image/webp', 'clients'],
  ['gif', 'image', 'image/gif', 'clients'],
  ['avif', 'image', 'image/avif', 'known'],
  ['heic', 'image', 'image/heic', 'known'],
  ['bmp', 'image', 'image/bmp', 'known'],
  ['tif', 'image', 'image/tiff', 'known', { exts: ['tiff'] }],
  ['svg', 'image', 'image/svg+xml', 'known'],
  ['ico', 'image', 'image/x-icon', 'known'],
  ['mp4', 'video', 'video/mp4', 'clients', { family: 'iso-bmff' }],
  ['mov', 'video', 'video/quicktime', 'clients', { family: 'iso-bmff' }],
  ['webm', 'video', 'video/webm', 'clients', { mimes: ['audio/webm'], family: 'matroska' }],
  ['mkv', 'video', 'video/x-matroska', 'backend', { mimes: ['video/matroska'], family: 'matroska' }],
  ['avi', 'video', 'video/x-msvideo', 'backend', { mimes: ['video/vnd.avi'] }],
  ['m4v', 'video', 'video/x-m4v', 'known', { family: 'iso-bmff' }],
  ['mp3', 'audio', 'audio/mpeg', 'clients', { mimes: ['audio/mp3', 'audio/mpeg3', 'audio/x-mpeg', 'audio/x-mp3'] }],
  ['wav', 'audio', 'audio/wav', 'clients', { mimes: ['audio/x-wav', 'audio/wave', 'audio/vnd.wave'] }],
  ['m4a', 'audio', 'audio/mp4', 'clients', { mimes: ['audio/x-m4a', 'audio/m4a'], family: 'iso-bmff' }],
  ['aac', 'audio', 'audio/aac', 'clients', { mimes: ['audio/x-aac', 'audio/aacp'] }],
  ['ogg', 'audio', 'audio/ogg', 'known'],
  ['flac', 'audio', 'audio/flac', 'known'],
];

export const MEDIA_FORMATS: readonly MediaFormat[] = ROWS.map(([ext, kind, mime, accepted, more = {}]) => ({
  ext,
  otherExts: more.exts ?? [],
  namingExts: more.naming ?? [],
  kind,
  mime,
  otherMimes: more.mimes ?? [],
  family: more.family,
  clients: accepted === 'clients',
  // what clients may send goes on to the backend, which takes a few more
  backend: accepted !== 'known',
}));

function extensionsOf(format: MediaFormat): string[] {
  return [format.ext, ...format.otherExts];
}

const BY_EXTENSION = new Map(MEDIA_FORMATS.flatMap((format) => [...extensionsOf(format), ...format.namingExts].map((ext) => [ext, format] as const)));
const BY_MIME = new Map(MEDIA_FORMATS.flatMap((format) => [format.mime, ...format.otherMimes].map((mime) => [mime, format] as const)));

function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase();
}

function bareMime(mime: string): string {
  return mime.split(';')[0]!.trim().toLowerCase();
}

/** The format a file name's (or path's) extension names. */
export function formatOfName(name: string): MediaFormat | undefined {
  return BY_EXTENSION.get(extensionOf(name));
}

/** The format a MIME type names, in any of its spellings, parameters ignored. */
export function formatOfMime(mime: string): MediaFormat | undefined {
  return BY_MIME.get(bareMime(mime));
}

/** The Content-Type for a file name, `application/octet-stream` when it names no media format. */
export function mimeTypeFor(filename: string): string {
  return formatOfName(filename)?.mime ?? 'application/octet-stream';
}

/**
 * One name per format for comparing what a file claims with what it is:
 * spellings of one type are one format, and a container family is one
 * format. A type this table does not know stands for itself.
 */
export function sameFormatKey(mime: string): string {
  const format = formatOfMime(mime);
  return format ? (format.family ?? format.mime) : bareMime(mime);
}

/** The media kind named by a `file_type` value, a MIME type or a file name. */
export function mediaKindOf(hint: string | undefined): MediaKind | undefined {
  if (!hint) return undefined;
  const lower = hint.toLowerCase();
  if (lower === 'image' || lower === 'video' || lower === 'audio') return lower;
  const slash = lower.indexOf('/');
  if (slash > 0) {
    const major = lower.slice(0, slash);
    return major === 'image' || major === 'video' || major === 'audio' ? major : undefined;
  }
  return formatOfName(lower)?.kind;
}

const KINDS_OF_ROLE: Record<MediaRole, readonly MediaKind[]> = { image: ['image', 'video'], audio: ['audio'], logo: ['image'] };

/** What a client may send for a role: pictures are stills or short clips; music is audio; a logo is a still. */
export function formatsForRole(role: MediaRole): MediaFormat[] {
  return MEDIA_FORMATS.filter((format) => format.clients && KINDS_OF_ROLE[role].includes(format.kind));
}

/** True when a client may send this format for this role. */
export function acceptsForRole(role: MediaRole, format: MediaFormat | undefined): format is MediaFormat {
  return Boolean(format && formatsForRole(role).includes(format));
}

/** "mp3, wav, m4a or aac": the extensions a role takes, for messages. */
export function roleFormatNames(role: MediaRole, last = ' or '): string {
  const exts = formatsForRole(role).map((format) => format.ext);
  return exts.length < 2 ? exts.join('') : `${exts.slice(0, -1).join(', ')}${last}${exts.at(-1)}`;
}

/** A file input's `accept` list for a role: each format's MIME type, then its extensions. */
export function acceptList(role: MediaRole): string {
  const formats = formatsForRole(role);
  return [...formats.map((format) => format.mime), ...formats.flatMap((format) => extensionsOf(format).map((ext) => `.${ext}`))].join(',');
}

/** A still picture, whose pixel count MAX_IMAGE_PIXELS bounds. */
export function isStill(format: MediaFormat | undefined): boolean {
  return format?.kind === 'image';
}

/** Every extension the backend's upload takes, spellings included. */
export const BACKEND_EXTENSIONS: readonly string[] = MEDIA_FORMATS.filter((format) => format.backend).flatMap(extensionsOf);

/** The backend's upload goes by a file's extension: that extension, lower-cased, when it takes it. */
export function backendExtension(name: string): string | undefined {
  const ext = extensionOf(name);
  return BACKEND_EXTENSIONS.includes(ext) ? ext : undefined;
}

/** The kind of a file the backend takes, by its name's extension. */
export function backendKindOf(name: string): MediaKind | undefined {
  return backendExtension(name) ? formatOfName(name)?.kind : undefined;
}

/** The extension to name a downloaded file by when only its Content-Type says what it is. */
export function backendExtensionForMime(contentType: string | undefined): string | undefined {
  const format = contentType ? formatOfMime(contentType) : undefined;
  return format?.backend ? format.ext : undefined;
}

/** What a file's content is: file-type's reading of its magic bytes, and the format it is when this table knows it. */
export interface SniffedMedia {
  ext: string;
  /** file-type's MIME type, also for formats this table does not know */
  mime: string;
  format?: MediaFormat;
}

/** How much of a file's start file-type needs to tell its type. */
export const SNIFF_BYTES = 4100;

function sniffed(result: { ext: string; mime: string } | undefined): SniffedMedia | undefined {
  return result && { ext: result.ext, mime: result.mime, format: BY_EXTENSION.get(result.ext) };
}

export async function sniffMedia(head: Uint8Array): Promise<SniffedMedia | undefined> {
  return sniffed(await fileTypeFromBuffer(head));
}

export async function sniffMediaFile(filePath: string): Promise<SniffedMedia | undefined> {
  return sniffed(await fileTypeFromFile(filePath));
}
