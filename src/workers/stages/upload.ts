import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JobError } from '../../shared/errors/job-error.ts';
import { fetchToFile } from '../../shared/media/fetch-guard.ts';
import type { BackendFileRef, Checkpoint, JobInput } from '../../shared/jobs/job-record.ts';
import { claimConflict } from '../../shared/media/media-claims.ts';
import { acceptsForRole, roleFormatNames, sniffMediaFile } from '../../shared/media/media-formats.ts';
import { ObjectNotFoundError } from '../../shared/storage/storage.ts';
import { rebaseDraft } from '../draft-rebase.ts';
import { checkPicture } from '../picture-check.ts';
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

/**
 * A URL input, fetched through the guarded fetcher into `scratch` and named
 * by its content (the backend goes by extension).
 */
async function fetchInput(context: StageContext, input: Extract<JobInput, { kind: 'url' }>, index: number, scratch: string): Promise<LocalInput> {
  const fetched = path.join(scratch, String(index));
  const { contentType } = await fetchToFile(input.url, fetched, {
    allowlist: context.settings.urlFetchAllowlist,
    maxBytes: context.settings.maxDownloadBytes,
    signal: context.signal,
  });
  // what a downloaded input is comes from its content
  const sniffed = await sniffMediaFile(fetched);
  const host = new URL(input.url).host;
  const type = sniffed?.format;
  if (!acceptsForRole(input.role, type)) {
    const wanted = { audio: `audio (${roleFormatNames('audio', ', ')})`, image: 'an image or a short video', logo: `a still image (${roleFormatNames('logo', ', ')})` }[input.role];
    throw new JobError('unsupported_media', `${host} sent ${sniffed?.mime ?? 'a file of unknown type'}, not ${wanted}.`);
  }
  // a download's name is the URL's, which image CDNs keep while converting formats: only its Content-Type is a claim
  const conflict = claimConflict(type.mime, { contentType });
  if (conflict) throw new JobError('unsupported_media', `the file from ${host} ${conflict}.`);
  const named = `${fetched}.${type.ext}`;
  await rename(fetched, named);
  return { path: named, filename: uploadName(decodedPath(input.url), type.ext), contentType: type.mime };
}

/**
 * Runs `use` with every input as a file on this machine: stored inputs as
 * the storage lends them (on S3, a temporary download), URL inputs fetched
 * into `scratch`.
 */
async function withLocalInputs<T>(
  context: StageContext,
  inputs: readonly JobInput[],
  scratch: string,
  use: (files: LocalInput[]) => Promise<T>,
  ready: LocalInput[] = [],
): Promise<T> {
  const index = ready.length;
  const input = inputs[index];
  if (!input) return use(ready);
  const next = async (file: LocalInput) => {
    if (input.role !== 'audio') {
      await checkPicture(file.path, path.extname(file.filename).slice(1), file.filename, { maxPixels: context.settings.maxImagePixels, signal: context.signal });
    }
    await context.progress((index + 1) / (inputs.length + 1));
    return withLocalInputs(context, inputs, scratch, use, [...ready, file]);
  };
  if (input.kind === 'url') return next(await fetchInput(context, input, index, scratch));
  const ext = path.extname(input.key).slice(1);
  return context.storage.withLocalFile(input.key, (filePath) => next({ path: filePath, filename: uploadName(input.filename, ext), contentType: input.contentType }));
}

/**
 * Pictures first, in the client's order, then the music: the backend reads an
 * upload in that order. The logo comes last, where the instruction's naming of
 * it (instruct.ts) looks for it.
 */
function timelineOrder(inputs: readonly JobInput[]): JobInput[] {
  const ofRole = (role: JobInput['role']) => inputs.filter((input) => input.role === role);
  return [...ofRole('image'), ...ofRole('audio'), ...ofRole('logo')];
}

/**
 * A draft saved in a session the backend lost, moved onto the files just
 * uploaded into the new one, so it is rendered without a second instruction.
 * A draft that names files it cannot move was lost with the old session: it
 * is dropped with its instruction, which is then sent again.
 */
function savedDraftOnto(context: StageContext, files: BackendFileRef[]): Checkpoint {
  const { draft, draftFiles } = context.job.checkpoint;
  if (!draftFiles) return {};
  const moved = draft && rebaseDraft(draft, draftFiles, files);
  if (moved) {
    context.logger.info('the saved draft moved into the new session; not sending the instruction again');
    // its bytes changed with its files: the render sends the moved draft
    return { draft: moved, draftJson: undefined, draftFiles: undefined };
  }
  context.logger.warn('the saved draft names files the new session does not have; sending the instruction again');
  return { draft: undefined, draftJson: undefined, draftFiles: undefined, instruction: undefined };
}

/** Every input goes to the backend once; its file references are checkpointed. */
export const uploadStage: Stage = {
  step: 'upload',
  name: 'uploading',
  done: (checkpoint) => Boolean(checkpoint.uploaded),
  async run(context) {
    const sessionId = context.job.checkpoint.sessionId as string;
    const inputs = timelineOrder(context.job.inputs);
    const scratch = await mkdtemp(path.join(tmpdir(), `i2v-${context.job.id}-`));
    try {
      const uploaded = await withLocalInputs(context, inputs, scratch, (files) =>
        context.backend((client) => client.uploadFiles(sessionId, files, { signal: context.signal })),
      );
      const files = uploaded.map((f) => ({ filename: f.filename, fileType: f.fileType, cdnUrl: f.cdnUrl }));
      await context.checkpoint({ uploaded: files, ...savedDraftOnto(context, files) });
    } catch (error) {
      if (error instanceof ObjectNotFoundError) {
        throw new JobError('input_missing', 'An input file is no longer stored (uploads and inputs are deleted RETENTION_DAYS after they arrive); send the job again with the file.');
      }
      throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
