import { setTimeout } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { draftSchema, timelineSummary } from '../../../shared/jobs/draft.ts';
import { planTurn, type Turn, type TurnMedia } from '../../../shared/agent/index.ts';
import { isSameUser, publicBase, requireAccount, type EngineContext } from '../context.ts';
import { fileUrl } from '../../store/media-files.ts';
import { SseFrames } from '../sse.ts';
import type { Account } from '../../store/accounts.ts';
import type { Session, Timeline } from '../../store/sessions.ts';

const AGENT = 'nemo_agent';
const EDIT_TOOL = 'edit_multitrack';
/** the in-stream error code of a request this engine cannot serve (a generative preset) */
export const ENGINE_CAPABILITY = 'engine_capability';

const runSseBody = z.object({
  app_name: z.string().optional(),
  user_id: z.string().default('me'),
  session_id: z.string().min(1),
  new_message: z.object({ parts: z.array(z.object({ text: z.string().optional() }).loose()).min(1) }).loose(),
  streaming: z.boolean().optional(),
  /** ADK: state changes applied to the session before the agent runs; this engine knows one key, `draft` */
  state_delta: z.record(z.string(), z.unknown()).optional(),
});

type StreamWriter = ((frames: string | string[]) => void) & { cut(): void };

/** Starts the event stream; with `dropAfter`, the connection is cut after that many frames (a fault). */
function openStream(reply: FastifyReply, dropAfter?: number): StreamWriter {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let written = 0;
  const write = (frames: string | string[]) => {
    for (const frame of Array.isArray(frames) ? frames : [frames]) {
      if (reply.raw.destroyed) return;
      if (dropAfter !== undefined && written >= dropAfter) {
        reply.raw.destroy();
        return;
      }
      reply.raw.write(frame);
      written += 1;
    }
  };
  return Object.assign(write, { cut: () => void reply.raw.destroy() });
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
 * The timeline a run's `state_delta.draft` makes current again, or why it
 * cannot: this agent edits the timelines it made (it keeps the request each
 * was built from), so the draft must be one of the session's own.
 */
function timelineToRestore(session: Session, draft: unknown): Timeline | string {
  const parsed = draftSchema.safeParse(draft);
  if (!parsed.success) return `state_delta.draft is not a draft: ${parsed.error.issues[0]?.message}`;
  return session.timelines.find((timeline) => isDeepStrictEqual(timeline.draft, parsed.data)) ?? 'state_delta.draft is not a timeline of this session';
}

/** The latest upload as the agent sees it: its pictures in order (a logo the instruction names among them), and its first audio file as music. */
function sessionMedia(session: Session, base: string): TurnMedia {
  const media = (file: Session['latestUpload'][number]) => ({ src: fileUrl(base, session.id, file.name), filename: file.filename });
  const pictures = session.latestUpload.flatMap((file) => (file.fileType === 'audio' ? [] : [{ ...media(file), kind: file.fileType }]));
  const audio = session.latestUpload.find((file) => file.fileType === 'audio');
  return { pictures, ...(audio && { music: media(audio) }) };
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * POST /run_sse: the agent reads the instruction (src/engine/agent/) and, when
 * it edits, the new draft is stored in the session before the stream ends.
 * Errors before the stream starts are plain replies (as ADK answers a missing
 * session with 404 `{"detail":…}`); once it has started they are events.
 */
export function runSseRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const { options } = ctx;

  /** Charges, announces the tool call, "works" with heartbeats, then stores the draft. */
  async function applyEdit(
    edit: Extract<Turn, { kind: 'edit' }>,
    account: Account,
    session: Session,
    frames: SseFrames,
    write: StreamWriter,
  ): Promise<'edited' | 'no-credits' | 'lost'> {
    if (!(await ctx.accounts.charge(account, options.creditsPerInstruction))) {
      write(frames.error(2001, `insufficient credits: ${options.creditsPerInstruction} needed, ${account.available} available`));
      return 'no-credits';
    }
    await ctx.sessions.update(session.id, (current) => void (current.instructions += 1));
    const call = frames.toolCall(EDIT_TOOL, edit.toolArgs);
    write(call.frames);
    if (await ctx.faults.take('lose-edit')) {
      write.cut();
      return 'lost';
    }
    const slow = await ctx.faults.take('slow-agent');
    await withHeartbeats(write, frames, options.heartbeatMs, () => setTimeout(slow ? slow.seconds * 1000 : options.agentDelayMs));
    const timeline: Timeline = { ...edit.media, pictures: [...edit.media.pictures], draft: edit.draft, request: edit.request };
    // an upload that came in meanwhile (from any engine) stays: the edit is stored onto the newest version
    const stored = await ctx.sessions.update(session.id, (current) => {
      current.timeline = timeline;
      current.timelines.push(timeline);
      current.uploadedSinceDraft = false;
    });
    if (!stored) {
      write(frames.error(1002, `session ${session.id} not found`));
      return 'lost';
    }
    write(frames.toolResponse(call.id, EDIT_TOOL, { status: 'success', summary: timelineSummary(edit.draft), credits_used: options.creditsPerInstruction }));
    // upstream ends about 30% of edits with tool events only
    const noText = (await ctx.faults.take('no-text')) !== undefined || options.random() < options.noTextRate;
    if (!noText) write(frames.text(edit.text));
    return 'edited';
  }

  app.post('/run_sse', async (request, reply) => {
    const account = await requireAccount(ctx, request);
    const parsed = runSseBody.safeParse(request.body);
    if (!parsed.success) return reply.code(422).send({ detail: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) });
    const body = parsed.data;
    let session = isSameUser(account, body.user_id) ? await ctx.sessions.find(body.session_id, account.userId) : undefined;
    if (!session || (body.app_name !== undefined && body.app_name !== AGENT)) return reply.code(404).send({ detail: 'Session not found' });
    if (options.dialect.stateDelta === 'applied' && body.state_delta && 'draft' in body.state_delta) {
      const restored = timelineToRestore(session, body.state_delta.draft);
      if (typeof restored === 'string') return reply.code(422).send({ detail: restored });
      session = await ctx.sessions.update(session.id, (current) => {
        current.timeline = restored;
        current.uploadedSinceDraft = false;
      });
      if (!session) return reply.code(404).send({ detail: 'Session not found' });
    }

    const instruction = body.new_message.parts.map((part) => part.text ?? '').join('\n').trim();
    const frames = new SseFrames(options.dialect, AGENT, options.dialect.sseStreaming || body.streaming === true);
    const log = request.log.child({ sessionId: session.id });
    const write = openStream(reply, (await ctx.faults.take('drop-stream'))?.after_events);
    try {
      // a follow-up edits the current timeline with its media; after an upload, the upload starts a new one
      const current = session.uploadedSinceDraft ? undefined : session.timeline;
      const turnMedia: TurnMedia = current ? { pictures: current.pictures, music: current.music, logo: current.logo } : sessionMedia(session, publicBase(ctx, request));
      const turn = planTurn({
        instruction,
        skillSource: headerValue(request.headers['x-skill-source']),
        previous: current ? { request: current.request, draft: current.draft } : undefined,
        ...turnMedia,
      });
      switch (turn.kind) {
        case 'refuse':
          log.info({ skillSource: request.headers['x-skill-source'] }, 'instruction refused: not something this engine can do');
          write(frames.text(turn.text));
          write(frames.codedError(ENGINE_CAPABILITY, turn.errorMessage));
          return;
        case 'reply':
          write(frames.text(turn.text));
          return;
        case 'edit': {
          const outcome = await applyEdit(turn, account, session, frames, write);
          if (outcome === 'edited') log.info({ args: turn.toolArgs }, 'draft updated');
          else if (outcome === 'lost') log.warn('instruction charged and its edit lost (lose-edit fault)');
          else log.info({ userId: account.userId }, 'instruction refused: out of credits');
          return;
        }
      }
    } catch (error) {
      // the stream has started: the failure can only be told as an event
      log.error({ err: error }, 'instruction failed');
      write(frames.error(500, 'I encountered a temporary issue, please try again'));
    } finally {
      reply.raw.end();
    }
  });
}
