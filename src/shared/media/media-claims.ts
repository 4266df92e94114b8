import path from 'node:path';
import { formatOfName, sameFormatKey } from './media-formats.ts';

/**
 * What a file says it is (its name's extension, its declared Content-Type)
 * against what its content is. The content decides what the file is; a claim
 * that names another format is refused rather than believed or ignored, since
 * a file dressed as something else is a mistake at best and an attempt to get
 * a different parser to read it at worst.
 */

/** Declared types that claim nothing: "some bytes". */
const UNCLAIMED = new Set(['application/octet-stream', 'binary/octet-stream', 'application/binary', 'application/unknown', 'application/x-download', 'application/force-download']);

/** Extensions of documents and archives, with the type they name; media extensions are in media-formats.ts. Others (none, `.final`, `.blob`) claim nothing. */
const DOCUMENT_TYPE_OF_EXTENSION: Readonly<Record<string, string>> = {
  html: 'text/html', htm: 'text/html', txt: 'text/plain', json: 'application/json', xml: 'application/xml', js: 'text/javascript',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar', '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar', exe: 'application/x-msdownload', m3u8: 'application/vnd.apple.mpegurl',
};

function typeNamedBy(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  return formatOfName(filename)?.mime ?? DOCUMENT_TYPE_OF_EXTENSION[path.extname(filename).slice(1).toLowerCase()];
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
  const actual = sameFormatKey(actualMime);
  const declared = claims.contentType ? sameFormatKey(claims.contentType) : '';
  if (declared && !UNCLAIMED.has(declared) && declared !== actual) {
    return `is declared as ${claims.contentType} but its content is ${actualMime}`;
  }
  const named = typeNamedBy(claims.filename);
  if (named && sameFormatKey(named) !== actual) return `is named ${path.extname(claims.filename!).toLowerCase()} but its content is ${actualMime}`;
  return undefined;
}
