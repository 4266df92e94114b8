import type { FastifyInstance } from 'fastify';
import { requireAccount, type EngineContext } from '../context.ts';
import { okBody } from '../envelope.ts';

export function creditRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/api/credits/balance/simple', async (request) => {
    const { available, frozen } = await requireAccount(ctx, request);
    return okBody({ available, frozen, total: available + frozen });
  });
}
