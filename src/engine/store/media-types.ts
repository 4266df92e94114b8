import { extname } from 'node:path';
import { mediaKindOf } from '../../shared/backend/media-types.ts';
import type { FileType } from './sessions.ts';

/** The extensions upstream accepts (the seeds' list; jpeg is jpg's other spelling). */
export const ACCEPTED_EXTENSIONS = ['mp4', 'mov', 'avi', 'webm', 'mkv', 'jpg', 'jpeg', 'png', 'gif', 'webp', 'mp3', 'wav', 'm4a', 'aac'] as const;
const ACCEPTED = new Set<string>(ACCEPTED_EXTENSIONS);

/** For URL uploads whose path names no extension. */
const EXTENSION_BY_CONTENT_TYPE: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
};

/** The accepted, lower-cased extension of a file name or path, if any. */
export function acceptedExtension(name: string): string | undefined {
  const ext = extname(name).slice(1).toLowerCase();
  return ACCEPTED.has(ext) ? ext : undefined;
}

export function extensionForContentType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? EXTENSION_BY_CONTENT_TYPE[type] : undefined;
}

export function fileTypeOf(nameOrPath: string): FileType | undefined {
  const ext = acceptedExtension(nameOrPath);
  return ext ? mediaKindOf(`x.${ext}`) : undefined;
}
