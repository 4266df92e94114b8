import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../context.ts';
import { EngineError, okBody } from '../envelope.ts';

export function authRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post('/api/auth/anonymous-token', async (request) => {
    const clientId = request.headers['x-client-id'];
    if (typeof clientId !== 'string' || clientId.trim() === '') throw new EngineError(400, 'missing X-Client-Id header');
    const issued = await ctx.accounts.issueAnonymous(clientId.trim());
    if (!issued.ok) {
      throw new EngineError(429, 'rate limited: one anonymous token per client every 7 days', {
        headers: { 'retry-after': String(issued.retryAfterS) },
      });
    }
    request.log.info({ userId: issued.account.userId }, 'anonymous token issued');
    return okBody({
      token: issued.token,
      user_id: issued.account.userId,
      expires_at: issued.expiresAt.toISOString(),
      credits: issued.account.available,
    });
  });
}
