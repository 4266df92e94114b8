import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isSameUser, requireAccount, type EngineContext } from '../context.ts';
import { EngineError, okBody } from '../envelope.ts';

const createSessionBody = z
  .object({ task_name: z.string().optional(), language: z.string().min(2).max(16).optional() })
  .loose()
  .nullish();

export function sessionRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post<{ Params: { user: string } }>('/api/tasks/:user/with-session/nemo_agent', async (request) => {
    const account = await requireAccount(ctx, request);
    if (!isSameUser(account, request.params.user)) throw new EngineError(1001, 'token does not belong to this user');
    const body = createSessionBody.safeParse(request.body);
    if (!body.success) throw new EngineError(400, `invalid body: ${body.error.issues[0]?.message ?? 'malformed'}`, { httpStatus: 400 });
    const session = await ctx.sessions.create(account.userId, body.data?.language ?? 'en');
    request.log.info({ userId: account.userId, sessionId: session.id }, 'session created');
    return okBody({ task_id: session.taskId, session_id: session.id, user_id: account.userId });
  });
}
