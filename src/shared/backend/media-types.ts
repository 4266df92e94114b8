/** The backend's accepted upload formats, by extension. */
export type MediaKind = 'image' | 'video' | 'audio';

const BY_EXTENSION: Record<string, { kind: MediaKind; mime: string }> = {
  mp4: { kind: 'video', mime: 'video/mp4' },
  mov: { kind: 'video', mime: 'video/quicktime' },
  avi: { kind: 'video', mime: 'video/x-msvideo' },
  webm: { kind: 'video', mime: 'video/webm' },
  mkv: { kind: 'video', mime: 'video/x-matroska' },
  jpg: { kind: 'image', mime: 'image/jpeg' },
  jpeg: { kind: 'image', mime: 'image/jpeg' },
  png: { kind: 'image', mime: 'image/png' },
  gif: { kind: 'image', mime: 'image/gif' },
  webp: { kind: 'image', mime: 'image/webp' },
  heic: { kind: 'image', mime: 'image/heic' },
  mp3: { kind: 'audio', mime: 'audio/mpeg' },
  wav: { kind: 'audio', mime: 'audio/wav' },
  m4a: { kind: 'audio', mime: 'audio/mp4' },
  aac: { kind: 'audio', mime: 'audio/aac' },
};

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

export function mimeTypeFor(filename: string): string {
  return BY_EXTENSION[extensionOf(filename)]?.mime ?? 'application/octet-stream';
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
  return BY_EXTENSION[extensionOf(lower)]?.kind;
}
