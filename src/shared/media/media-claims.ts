import path from 'node:path';

/**
 * What a file says it is (its name's extension, its declared Content-Type)
 * against what its content is. The content decides what the file is; a claim
 * that names another format is refused rather than believed or ignored, since
 * a file dressed as something else is a mistake at best and an attempt to get
 * a different parser to read it at worst.
 */

/** Spellings of one format, and containers that tools label loosely, as one name. */
const SAME_FORMAT: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-mp3': 'audio/mpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-aac': 'audio/aac',
  'audio/aacp': 'audio/aac',
  // ISO base media files (mp4, mov, m4a…) differ only by a brand that encoders set loosely
  'video/mp4': 'iso-bmff',
  'video/quicktime': 'iso-bmff',
  'video/x-m4v': 'iso-bmff',
  'audio/mp4': 'iso-bmff',
  'audio/x-m4a': 'iso-bmff',
  'audio/m4a': 'iso-bmff',
  // WebM is a Matroska profile
  'video/webm': 'matroska',
  'audio/webm': 'matroska',
  'video/x-matroska': 'matroska',
};

/** Declared types that claim nothing: "some bytes". */
const UNCLAIMED = new Set(['application/octet-stream', 'binary/octet-stream', 'application/binary', 'application/unknown', 'application/x-download', 'application/force-download']);

/** Extensions that name a format, with the type they name. Others (none, `.final`, `.blob`) claim nothing. */
const TYPE_OF_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', jpe: 'image/jpeg', jfif: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', heic: 'image/heic', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff', svg: 'image/svg+xml', ico: 'image/x-icon',
  mp4: 'video/mp4', m4v: 'video/x-m4v', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska', avi: 'video/x-msvideo',
  mp3: 'audio/mpeg', wav: 'audio/wav', m4a: 'audio/x-m4a', aac: 'audio/aac', ogg: 'audio/ogg', flac: 'audio/flac',
  html: 'text/html', htm: 'text/html', txt: 'text/plain', json: 'application/json', xml: 'application/xml', js: 'text/javascript',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar', '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar', exe: 'application/x-msdownload', m3u8: 'application/vnd.apple.mpegurl',
};

function formatOf(mime: string): string {
  const bare = mime.split(';')[0]!.trim().toLowerCase();
  return SAME_FORMAT[bare] ?? bare;
}

export interface MediaClaims {
  /** the client's file name (a multipart part's), or a URL's last path segment */
  filename?: string;
  /** the declared Content-Type (a multipart part's, or a download's) */
  contentType?: string;
}

/**
 * Why the claims disagree with the content's type (`actualMime`, from
 * sniffing), or undefined when they agree or claim nothing.
 */
export function claimConflict(actualMime: string, claims: MediaClaims): string | undefined {
  const actual = formatOf(actualMime);
  const declared = claims.contentType ? formatOf(claims.contentType) : '';
  if (declared && !UNCLAIMED.has(declared) && declared !== actual) {
    return `is declared as ${claims.contentType} but its content is ${actualMime}`;
  }
  const ext = claims.filename ? path.extname(claims.filename).slice(1).toLowerCase() : '';
  const named = TYPE_OF_EXTENSION[ext];
  if (named && formatOf(named) !== actual) return `is named .${ext} but its content is ${actualMime}`;
  return undefined;
}
