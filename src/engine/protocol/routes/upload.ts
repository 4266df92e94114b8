import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { JobError } from '../../../shared/errors/job-error.ts';
import { fetchToFile } from '../../../shared/media/fetch-guard.ts';
import { publicBase, requireAccount, requireSession, type EngineContext } from '../context.ts';
import { EngineError, okBody, sessionNotFound } from '../envelope.ts';
import { describeUpload, fileView, hashFile, writeHashed } from '../../store/media-files.ts';
import { BACKEND_EXTENSIONS, backendExtension, backendExtensionForMime } from '../../../shared/media/media-formats.ts';
import { newStorageName } from '../../store/ids.ts';
import type { StoredFile } from '../../store/sessions.ts';
import { uprightImage } from '../../render/upright.ts';

/** A file on disk under its storage name, not yet probed. */
interface SavedFile {
  name: string;
  filename: string;
  path: string;
  hash: string;
}

const MAX_FILES_PER_UPLOAD = 50;

const urlUploadBody = z.object({
  urls: z.array(z.string().min(1)).min(1).max(MAX_FILES_PER_UPLOAD),
  source_type: z.literal('url').optional(),
});

/** What a URL upload is called: the last segment of its path. */
function lastPathSegment(url: string): string {
  let segment = '';
  try {
    segment = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    // an unparsable URL is refused by the fetch guard with a clearer message
  }
  return segment || 'download';
}

const unsupported = (filename: string) =>
  new EngineError(4001, `unsupported file type: ${filename}; accepted: ${BACKEND_EXTENSIONS.join(', ')}`);

export function uploadRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const maxBytes = ctx.options.maxUploadBytes;
  const tooLarge = () => new EngineError(4002, `file too large: the limit is ${Math.floor(maxBytes / (1024 * 1024))} MB`);

  /** Repeated `files` parts, each streamed to disk; the first refused part fails the whole upload. */
  async function receiveParts(request: FastifyRequest, dir: string, saved: SavedFile[]): Promise<void> {
    try {
      for await (const part of request.parts({ limits: { fileSize: maxBytes, files: MAX_FILES_PER_UPLOAD } })) {
        if (part.type !== 'file') continue;
        const ext = backendExtension(part.filename);
        if (!ext) {
          part.file.resume();
          throw unsupported(part.filename);
        }
        const name = newStorageName(ext);
        const filePath = path.join(dir, name);
        const hash = await writeHashed(part.file, filePath);
        saved.push({ name, filename: part.filename, path: filePath, hash });
      }
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      if (code === 'FST_FILES_LIMIT') throw new EngineError(4002, `too many files: at most ${MAX_FILES_PER_UPLOAD} per upload`);
      throw error;
    }
  }

  /** `{"urls":[…]}`: each fetched through the guard (public addresses only, unless allowlisted). */
  async function fetchUrls(body: unknown, dir: string, saved: SavedFile[]): Promise<void> {
    const parsed = urlUploadBody.safeParse(body);
    if (!parsed.success) throw new EngineError(4001, 'expected multipart files or {"urls":[…],"source_type":"url"}');
    for (const url of parsed.data.urls) {
      const filename = lastPathSegment(url);
      const downloadPath = path.join(dir, newStorageName('download'));
      let contentType: string | undefined;
      try {
        ({ contentType } = await fetchToFile(url, downloadPath, { allowlist: ctx.options.urlFetchAllowlist, maxBytes }));
      } catch (error) {
        if (error instanceof JobError && error.code === 'media_too_large') throw tooLarge();
        if (error instanceof JobError) throw new EngineError(4001, `could not use ${url}: ${error.message}`);
        throw error;
      }
      const ext = backendExtension(filename) ?? backendExtensionForMime(contentType);
      if (!ext) {
        await rm(downloadPath, { force: true });
        throw unsupported(filename);
      }
      const name = newStorageName(ext);
      const filePath = path.join(dir, name);
      await rename(downloadPath, filePath);
      saved.push({ name, filename, path: filePath, hash: await hashFile(filePath) });
    }
  }

  app.post<{ Params: { user: string; sid: string } }>('/api/upload-video/nemo_agent/:user/:sid', async (request) => {
    const account = await requireAccount(ctx, request);
    const session = await requireSession(ctx, account, request.params.user, request.params.sid);
    await ctx.housekeeping.makeRoom(session.id, Number(request.headers['content-length']) || 0);
    const dir = ctx.uploadsDir(session.id);
    await mkdir(dir, { recursive: true });
    const saved: SavedFile[] = [];
    let files: StoredFile[];
    const forget = () => Promise.all(saved.map((file) => rm(file.path, { force: true })));
    try {
      if (request.isMultipart()) await receiveParts(request, dir, saved);
      else await fetchUrls(request.body, dir, saved);
      if (saved.length === 0) throw new EngineError(4001, 'the upload holds no file');
      // saved keeps naming what is on disk, so a failure below cleans up the upright copies too
      for (const [index, file] of saved.entries()) saved[index] = await uprightImage(file);
      files = await Promise.all(saved.map(describeUpload));
    } catch (error) {
      await forget();
      throw error;
    }
    const stored = await ctx.sessions.update(session.id, (current) => {
      current.files.push(...files);
      current.latestUpload = files;
      current.uploadedSinceDraft = true;
    });
    if (!stored) {
      // freed (or forgotten) while the files came in
      await forget();
      throw sessionNotFound(session.id);
    }
    request.log.info({ sessionId: session.id, files: files.length }, 'files uploaded');
    const base = publicBase(ctx, request);
    return okBody({ files: files.map((file) => fileView(base, session.id, file)), session_state_applied: true });
  });
}
