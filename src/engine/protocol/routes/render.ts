import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isExportable } from '../../../shared/jobs/backend-draft.ts';
import { draftSchema } from '../../../shared/jobs/draft.ts';
import { publicBase, requireAccount, type EngineContext } from '../context.ts';
import { EngineError, renderOkBody, sessionNotFound } from '../envelope.ts';
import { checkRenderable, DraftRenderError, type ResolveLocalPath } from '../../render/ffmpeg-args.ts';
import { sessionFileForSrc } from '../../store/media-files.ts';
import type { PollShape } from '../../options.ts';
import { CANCELED, INITIAL_PROGRESS } from '../../render/render-runner.ts';
import { newStorageName } from '../../store/ids.ts';
import type { RenderJob } from '../../store/renders.ts';
import type { Session } from '../../store/sessions.ts';
import { sendFile } from '../serve-file.ts';

const ATTRIBUTION_HEADERS = ['x-skill-source', 'x-skill-version', 'x-skill-platform'] as const;

const startBody = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'render ids are 1–128 letters, digits, "_", "-" or "."'),
  sessionId: z.string().min(1),
  draft: z.unknown(),
  output: z.object({ format: z.literal('mp4').optional(), quality: z.string().optional() }).loose().optional(),
});

const badRequest = (message: string) => new EngineError(400, message);

function requireAttribution(request: FastifyRequest): void {
  const missing = ATTRIBUTION_HEADERS.filter((name) => !String(request.headers[name] ?? '').trim());
  if (missing.length > 0) throw new EngineError(402, `export blocked: missing attribution headers ${missing.join(', ')}`);
}

function issueText(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}

/** A draft may only show files of the session it is rendered in; `sources` collects the storage name of each src it resolved. */
function sessionResolver(session: Session, sources: Record<string, string>): ResolveLocalPath {
  return (src) => {
    const file = sessionFileForSrc(session, src);
    if (!file) throw new DraftRenderError(`segment src ${src} is not a file of session ${session.id}`);
    sources[src] = file.name;
    return file.path;
  };
}

/** The poll reply in the dialect's shape (all three are published). */
function pollBody(shape: PollShape, job: RenderJob, outputUrl: string | undefined) {
  const common = { status: job.status, progress: job.progress, ...(job.error !== undefined && { error: job.error }) };
  switch (shape) {
    case 'envelope':
      return renderOkBody({ id: job.id, ...common, ...(outputUrl && { outputUrl }) });
    case 'task':
      return { taskId: job.id, ...common, ...(outputUrl && { output: { url: outputUrl, duration: job.durationS, size: job.sizeBytes } }) };
    case 'flat':
      return { id: job.id, ...common, ...(outputUrl && { output: { url: outputUrl } }) };
  }
}

export function renderRoutes(app: FastifyInstance, ctx: EngineContext): void {
  /** Queues a render, unless an armed fault fails or delays it. */
  async function startOrFault(job: RenderJob): Promise<void> {
    if (await ctx.faults.take('render-fail')) {
      await ctx.renders.finish(job.id, { status: 'failed', error: 'render failed (injected fault)' });
      return;
    }
    const delay = await ctx.faults.take('render-delay');
    await ctx.renderQueue.enqueue(job.id, delay ? delay.seconds * 1000 : 0);
  }

  async function requireRender(request: FastifyRequest<{ Params: { id: string } }>): Promise<RenderJob> {
    const account = await requireAccount(ctx, request);
    const job = await ctx.renders.find(request.params.id, account.userId);
    if (!job) throw new EngineError(404, `render ${request.params.id} not found`);
    return job;
  }

  app.post('/api/render/proxy/lambda', async (request) => {
    const account = await requireAccount(ctx, request);
    requireAttribution(request);
    const body = startBody.safeParse(request.body);
    if (!body.success) throw badRequest(`invalid render request: ${issueText(body.error)}`);
    const { id, sessionId } = body.data;
    const taken = () => new EngineError(409, `render id ${id} already exists`);
    if (await ctx.renders.has(id)) throw taken();
    const draft = draftSchema.safeParse(body.data.draft);
    if (!draft.success) throw badRequest(`invalid draft: ${issueText(draft.error)}`);
    if (!isExportable(draft.data)) throw badRequest('the draft is empty: add a segment before exporting');
    const session = await ctx.sessions.find(sessionId, account.userId);
    if (!session) throw sessionNotFound(sessionId);
    const sources: Record<string, string> = {};
    try {
      checkRenderable(draft.data, sessionResolver(session, sources));
    } catch (error) {
      if (error instanceof DraftRenderError) throw badRequest(error.message);
      throw error;
    }
    const job: RenderJob = {
      id,
      sessionId,
      userId: account.userId,
      draft: draft.data,
      sources,
      status: 'pending',
      progress: INITIAL_PROGRESS,
      fileName: newStorageName('mp4'),
      lastUsedAt: Date.now(),
    };
    const accepted = renderOkBody({ id, status: job.status, progress: job.progress });
    // has() above answers most retries early; add() decides, atomically across engines
    const added = await ctx.renders.add(job);
    if (added === 'taken') throw taken();
    if (added === 'no-session') throw sessionNotFound(sessionId);
    await startOrFault(job);
    request.log.info({ renderId: id, sessionId }, 'render accepted');
    return accepted;
  });

  app.get<{ Params: { id: string } }>('/api/render/proxy/lambda/:id', async (request) => {
    const job = await requireRender(request);
    const outputUrl = job.status === 'completed' ? `${publicBase(ctx, request)}/renders/${job.fileName}` : undefined;
    return pollBody(ctx.options.dialect.pollShape, job, outputUrl);
  });

  app.post<{ Params: { id: string } }>('/api/render/proxy/lambda/:id/cancel', async (request) => {
    const job = await requireRender(request);
    if (!(await ctx.renderQueue.cancel(job))) {
      const ended = await ctx.renders.get(job.id);
      throw new EngineError(409, `render ${job.id} has already ${ended?.status === 'completed' ? 'completed' : 'failed'}`);
    }
    request.log.info({ renderId: job.id }, 'render canceled');
    return renderOkBody({ id: job.id, status: 'failed', progress: job.progress, error: CANCELED });
  });

  app.get<{ Params: { id: string } }>('/api/render/proxy/:id/download', async (request, reply) => {
    const job = await requireRender(request);
    if (job.status !== 'completed') throw new EngineError(409, `render ${job.id} is ${job.status}, not completed`);
    return sendFile(reply, path.join(ctx.rendersDir, job.fileName), 'video/mp4', `${job.id}.mp4`);
  });
}
