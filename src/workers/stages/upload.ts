import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fetchToFile } from '../../shared/fetch-guard.ts';
import type { JobInput } from '../../shared/job-record.ts';
import type { Stage, StageContext } from '../stage-context.ts';

interface LocalInput {
  path: string;
  filename: string;
  contentType?: string;
}

/** URL inputs are fetched through the guarded fetcher into the job's work folder. */
async function localInput(context: StageContext, input: JobInput, index: number): Promise<LocalInput> {
  if (input.kind === 'file') {
    return { path: context.storage.localPath(input.key), filename: path.basename(input.key), contentType: input.contentType };
  }
  const key = `work/${context.job.id}/${index}`;
  const target = context.storage.localPath(key);
  await mkdir(path.dirname(target), { recursive: true });
  const fetched = await fetchToFile(input.url, target, {
    allowlist: context.settings.urlFetchAllowlist,
    maxBytes: context.settings.maxDownloadBytes,
    signal: context.signal,
  });
  const name = path.basename(new URL(fetched.finalUrl).pathname) || `image-${index}`;
  return { path: target, filename: name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-100), contentType: fetched.contentType };
}

/** Every input goes to the backend once; its file references are checkpointed. */
export const uploadStage: Stage = {
  step: 'upload',
  name: 'uploading',
  done: (checkpoint) => Boolean(checkpoint.uploaded),
  async run(context) {
    const sessionId = context.job.checkpoint.sessionId as string;
    const files: LocalInput[] = [];
    for (const [index, input] of context.job.inputs.entries()) {
      files.push(await localInput(context, input, index));
      await context.progress((index + 1) / (context.job.inputs.length + 1));
    }
    const uploaded = await context.backend((client) => client.uploadFiles(sessionId, files, { signal: context.signal }));
    await context.checkpoint({ uploaded: uploaded.map((f) => ({ filename: f.filename, fileType: f.fileType, cdnUrl: f.cdnUrl })) });
    await rm(context.storage.localPath(`work/${context.job.id}`), { recursive: true, force: true });
  },
};
