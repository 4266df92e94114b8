import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { draftSchema, isExportable } from '../../../shared/jobs/draft.ts';
import { publicBase, requireAccount, type EngineContext } from '../context.ts';
import { EngineError, renderOkBody } from '../envelope.ts';
import { checkRenderable, DraftRenderError, type ResolveLocalPath } from '../../render/ffmpeg-args.ts';
import { sessionFileForSrc } from '../../store/media-files.ts';
import type { PollShape } from '../../options.ts';
import { INITIAL_PROGRESS } from '../../render/render-runner.ts';
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

/** A draft may only show files of the session it is rendered in. */
function sessionResolver(session: Session): ResolveLocalPath {
  return (src) => {
    const file = sessionFileForSrc(session, src);
    if (!file) throw new DraftRenderError(`segment src ${src} is not a file of session ${session.id}`);
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
  /** Starts a render, unless an armed fault fails or delays it. */
  function startOrFault(job: RenderJob, resolve: ResolveLocalPath): void {
    if (ctx.faults.take('render-fail')) {
      Object.assign(job, { status: 'failed', progress: 100, error: 'render failed (injected fault)' });
      return;
    }
    const delay = ctx.faults.take('render-delay');
    if (!delay) return ctx.runner.enqueue(job, resolve);
    const timer = setTimeout(() => {
      if (!job.abort.signal.aborted) ctx.runner.enqueue(job, resolve);
    }, delay.seconds * 1000);
    job.abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  function requireRender(request: FastifyRequest<{ Params: { id: string } }>): RenderJob {
    const account = requireAccount(ctx, request);
    const job = ctx.renders.find(request.params.id, account.userId);
    if (!job) throw new EngineError(404, `render ${request.params.id} not found`);
    return job;
  }

  app.post('/api/render/proxy/lambda', async (request) => {
    const account = requireAccount(ctx, request);
    requireAttribution(request);
    const body = startBody.safeParse(request.body);
    if (!body.success) throw badRequest(`invalid render request: ${issueText(body.error)}`);
    const { id, sessionId } = body.data;
    if (ctx.renders.has(id)) throw new EngineError(409, `render id ${id} already exists`);
    const draft = draftSchema.safeParse(body.data.draft);
    if (!draft.success) throw badRequest(`invalid draft: ${issueText(draft.error)}`);
    if (!isExportable(draft.data)) throw badRequest('the draft is empty: add a segment before exporting');
    const session = ctx.sessions.find(sessionId, account.userId);
    if (!session) throw new EngineError(1002, `session ${sessionId} not found`);
    const resolve = sessionResolver(session);
    try {
      checkRenderable(draft.data, resolve);
    } catch (error) {
      if (error instanceof DraftRenderError) throw badRequest(error.message);
      throw error;
    }
    const job: RenderJob = {
      id,
      sessionId,
      userId: account.userId,
      draft: draft.data,
      status: 'pending',
      progress: INITIAL_PROGRESS,
      lastUsedAt: Date.now(),
      abort: new AbortController(),
    };
    const accepted = renderOkBody({ id, status: job.status, progress: job.progress });
    ctx.renders.add(job);
    startOrFault(job, resolve);
    request.log.info({ renderId: id, sessionId }, 'render accepted');
    return accepted;
  });

  app.get<{ Params: { id: string } }>('/api/render/proxy/lambda/:id', async (request) => {
    const job = requireRender(request);
    const outputUrl = job.outputName ? `${publicBase(ctx, request)}/renders/${job.outputName}` : undefined;
    return pollBody(ctx.options.dialect.pollShape, job, outputUrl);
  });

  app.post<{ Params: { id: string } }>('/api/render/proxy/lambda/:id/cancel', async (request) => {
    const job = requireRender(request);
    if (!ctx.runner.cancel(job)) throw new EngineError(409, `render ${job.id} has already ${job.status === 'completed' ? 'completed' : 'failed'}`);
    request.log.info({ renderId: job.id }, 'render canceled');
    return renderOkBody({ id: job.id, status: job.status, progress: job.progress, error: job.error });
  });

  app.get<{ Params: { id: string } }>('/api/render/proxy/:id/download', async (request, reply) => {
    const job = requireRender(request);
    if (job.status !== 'completed' || !job.outputPath) throw new EngineError(409, `render ${job.id} is ${job.status}, not completed`);
    return sendFile(reply, job.outputPath, 'video/mp4', `${job.id}.mp4`);
  });
}
