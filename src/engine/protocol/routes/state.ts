import type { FastifyInstance } from 'fastify';
import { publicBase, requireAccount, requireSession, type EngineContext } from '../context.ts';
import { okBody } from '../envelope.ts';
import { fileView } from '../../store/media-files.ts';

/** The canvas before any draft exists: the agent's default output. */
const DEFAULT_CANVAS = { width: 1080, height: 1920 };

export function stateRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get<{ Params: { user: string; sid: string } }>('/api/state/nemo_agent/:user/:sid/latest', async (request) => {
    const account = await requireAccount(ctx, request);
    const session = await requireSession(ctx, account, request.params.user, request.params.sid);
    const base = publicBase(ctx, request);
    const draft = session.timeline?.draft ?? null;
    return okBody({
      session_id: session.id,
      task_id: session.taskId,
      state: {
        draft,
        video_infos: session.files.map((file) => fileView(base, session.id, file)),
        generated_media: [],
        canvas_config: draft ? { width: draft.m.width, height: draft.m.height } : DEFAULT_CANVAS,
      },
    });
  });
}
