import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { timelineSummary } from '../../shared/draft.ts';
import { buildDraft, describeEdit, NO_MEDIA_REPLY, parseInstruction } from '../agent.ts';
import { isSameUser, publicBase, requireAccount, type EngineContext } from '../context.ts';
import { fileUrl } from '../media-files.ts';
import { SseFrames } from '../sse.ts';

const AGENT = 'nemo_agent';
const EDIT_TOOL = 'edit_multitrack';

const runSseBody = z.object({
  app_name: z.string().optional(),
  user_id: z.string().default('me'),
  session_id: z.string().min(1),
  new_message: z.object({ parts: z.array(z.object({ text: z.string().optional() }).loose()).min(1) }).loose(),
  streaming: z.boolean().optional(),
});

function openStream(reply: FastifyReply): (frames: string | string[]) => void {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  return (frames) => {
    if (!reply.raw.destroyed) reply.raw.write(Array.isArray(frames) ? frames.join('') : frames);
  };
}

/** Heartbeats from the start of some work until its end. */
async function withHeartbeats<T>(write: (frames: string) => void, frames: SseFrames, everyMs: number, work: () => Promise<T>): Promise<T> {
  write(frames.heartbeat());
  const timer = setInterval(() => write(frames.heartbeat()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * POST /run_sse: the agent turns the instruction into a draft, stored in the
 * session before the stream ends. Errors before the stream starts are plain
 * replies (as ADK answers a missing session with 404 `{"detail":…}`); once
 * it has started they are events.
 */
export function runSseRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { options } = ctx;

  app.post('/run_sse', async (request, reply) => {
    const account = requireAccount(ctx, request);
    const parsed = runSseBody.safeParse(request.body);
    if (!parsed.success) return reply.code(422).send({ detail: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) });
    const body = parsed.data;
    const session = isSameUser(account, body.user_id) ? ctx.sessions.find(body.session_id, account.userId) : undefined;
    if (!session || (body.app_name !== undefined && body.app_name !== AGENT)) return reply.code(404).send({ detail: 'Session not found' });

    const instruction = body.new_message.parts.map((part) => part.text ?? '').join('\n').trim();
    const frames = new SseFrames(options.dialect, AGENT, options.dialect.sseStreaming || body.streaming === true);
    const log = request.log.child({ sessionId: session.id });
    const write = openStream(reply);
    try {
      const media = session.latestUpload.filter((file) => file.fileType === 'image' || file.fileType === 'video');
      if (media.length === 0) {
        write(frames.text(NO_MEDIA_REPLY));
        return;
      }
      if (!ctx.accounts.charge(account, options.creditsPerInstruction)) {
        log.info({ userId: account.userId }, 'instruction refused: out of credits');
        write(frames.error(2001, `insufficient credits: ${options.creditsPerInstruction} needed, ${account.available} available`));
        return;
      }

      const wanted = parseInstruction(instruction);
      const call = frames.toolCall(EDIT_TOOL, {
        operation: 'create_timeline',
        motion: wanted.motion,
        intensity: wanted.intensity,
        duration_ms: Math.round(wanted.durationS * 1000),
        aspect_ratio: wanted.aspectRatio,
        resolution: wanted.resolution,
        fps: wanted.fps,
        media: media.map((file) => file.filename),
      });
      write(call.frames);
      const draft = await withHeartbeats(write, frames, options.heartbeatMs, async () => {
        await setTimeout(options.agentDelayMs);
        const base = publicBase(ctx, request);
        return buildDraft(
          wanted,
          media.map((file) => ({ src: fileUrl(base, session.id, file.name), filename: file.filename })),
        );
      });
      session.draft = draft;
      write(frames.toolResponse(call.id, EDIT_TOOL, { status: 'success', summary: timelineSummary(draft) }));
      log.info({ motion: wanted.motion, durationS: wanted.durationS, width: draft.m.width, height: draft.m.height }, 'draft updated');
      // upstream ends about 30% of edits with tool events only
      if (options.random() >= options.noTextRate) write(frames.text(describeEdit(wanted, draft)));
    } catch (error) {
      // the stream has started: the failure can only be told as an event
      log.error({ err: error }, 'instruction failed');
      write(frames.error(500, 'I encountered a temporary issue, please try again'));
    } finally {
      reply.raw.end();
    }
  });
}
