import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileTypeFromFile } from 'file-type';
import { JobError } from '../../shared/errors.ts';
import { fetchToFile } from '../../shared/fetch-guard.ts';
import type { JobInput } from '../../shared/job-record.ts';
import type { Stage, StageContext } from '../stage-context.ts';

interface LocalInput {
  path: string;
  filename: string;
  contentType?: string;
}

/**
 * The name the backend shows (timeline summaries use it): the client's name,
 * made safe, with the extension of what the file really is.
 */
export function uploadName(original: string, ext: string): string {
  const base = path.basename(original).replace(/\.[^.]*$/, '').replace(/[^\p{L}\p{N}._ -]/gu, '_').trim().slice(0, 80);
  return `${base || 'file'}.${ext}`;
}

function decodedPath(url: string): string {
  const { pathname } = new URL(url);
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

const FETCHED_TYPES = new Set(['jpg', 'png', 'webp', 'gif', 'mp4', 'mov', 'webm', 'mp3', 'wav', 'm4a', 'aac']);

/**
 * URL inputs are fetched through the guarded fetcher into the job's work
 * folder and named by their content (the backend goes by extension).
 */
async function localInput(context: StageContext, input: JobInput, index: number): Promise<LocalInput> {
  if (input.kind === 'file') {
    const ext = path.extname(input.key).slice(1);
    return { path: context.storage.localPath(input.key), filename: uploadName(input.filename, ext), contentType: input.contentType };
  }
  const fetched = context.storage.localPath(`work/${context.job.id}/${index}`);
  await mkdir(path.dirname(fetched), { recursive: true });
  await fetchToFile(input.url, fetched, {
    allowlist: context.settings.urlFetchAllowlist,
    maxBytes: context.settings.maxDownloadBytes,
    signal: context.signal,
  });
  const type = await fileTypeFromFile(fetched);
  if (!type || !FETCHED_TYPES.has(type.ext)) {
    throw new JobError('unsupported_media', `${new URL(input.url).host} sent ${type?.mime ?? 'a file of unknown type'}, not an image, a short video or audio.`);
  }
  const named = `${fetched}.${type.ext}`;
  await rename(fetched, named);
  return { path: named, filename: uploadName(decodedPath(input.url), type.ext), contentType: type.mime };
}

/** Pictures first, in the client's order, then the music: the backend reads an upload in that order. */
function timelineOrder(inputs: readonly JobInput[]): JobInput[] {
  return [...inputs.filter((input) => input.role !== 'audio'), ...inputs.filter((input) => input.role === 'audio')];
}

/** Every input goes to the backend once; its file references are checkpointed. */
export const uploadStage: Stage = {
  step: 'upload',
  name: 'uploading',
  done: (checkpoint) => Boolean(checkpoint.uploaded),
  async run(context) {
    const sessionId = context.job.checkpoint.sessionId as string;
    const inputs = timelineOrder(context.job.inputs);
    const files: LocalInput[] = [];
    for (const [index, input] of inputs.entries()) {
      files.push(await localInput(context, input, index));
      await context.progress((index + 1) / (inputs.length + 1));
    }
    const uploaded = await context.backend((client) => client.uploadFiles(sessionId, files, { signal: context.signal }));
    await context.checkpoint({ uploaded: uploaded.map((f) => ({ filename: f.filename, fileType: f.fileType, cdnUrl: f.cdnUrl })) });
    await rm(context.storage.localPath(`work/${context.job.id}`), { recursive: true, force: true });
  },
};
