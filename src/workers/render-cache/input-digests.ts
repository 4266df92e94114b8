import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fetchToFile } from '../../shared/media/fetch-guard.ts';
import type { JobInput } from '../../shared/jobs/job-record.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import type { InputDigest } from './cache-key.ts';

export interface DigestDeps {
  storage: Storage;
  urlFetchAllowlist: readonly string[];
  maxDownloadBytes: number;
  signal: AbortSignal;
}

async function sha256Of(stream: Readable, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of stream) {
      signal.throwIfAborted();
      hash.update(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return hash.digest('hex');
}

/**
 * The digest of every input's bytes: stored files read from storage, URLs
 * fetched (through the same guard as the upload stage) into a scratch file
 * that is dropped afterwards, so a URL whose picture changed is new work.
 */
export async function inputDigests(deps: DigestDeps, inputs: readonly JobInput[]): Promise<InputDigest[]> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'i2v-cache-'));
  try {
    const digests: InputDigest[] = [];
    for (const [index, input] of inputs.entries()) {
      if (input.kind === 'file') {
        digests.push({ role: input.role, sha256: await sha256Of(await deps.storage.read(input.key), deps.signal) });
        continue;
      }
      const file = path.join(scratch, String(index));
      await fetchToFile(input.url, file, { allowlist: deps.urlFetchAllowlist, maxBytes: deps.maxDownloadBytes, signal: deps.signal });
      digests.push({ role: input.role, sha256: await sha256Of(createReadStream(file), deps.signal) });
    }
    return digests;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
