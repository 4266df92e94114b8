import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { EngineContext } from '../context.ts';
import { EngineError, okBody } from '../envelope.ts';
import { faultRuleSchema, type FaultRule } from '../faults.ts';

/**
 * `/_engine/*`: arm faults and see what the engine did (renders, instructions
 * and tokens), so tests can count backend calls. Served only with
 * ENGINE_FAULTS=1. Everything here is the backend's shared state in Redis:
 * a fault armed on one engine fires on whichever engine the call reaches,
 * and the lists and counts are those of every engine on the prefix.
 */
export function adminRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const rules = z.union([faultRuleSchema, z.array(faultRuleSchema)]);

  const apply = async (rule: FaultRule) => {
    if (rule.kind === 'expire-tokens') await ctx.accounts.expireAll();
    else if (rule.kind === 'forget-sessions') await ctx.sessions.clear();
    else if (rule.kind === 'forget-renders') {
      for (const render of await ctx.renders.all()) await ctx.renderQueue.cancel(render);
      await ctx.housekeeping.forgetRenders();
    } else await ctx.faults.arm(rule);
  };

  app.post('/_engine/faults', async (request) => {
    const parsed = rules.safeParse(request.body);
    if (!parsed.success) throw new EngineError(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    for (const rule of Array.isArray(parsed.data) ? parsed.data : [parsed.data]) await apply(rule);
    return okBody({ armed: await ctx.faults.list() });
  });

  app.get('/_engine/faults', async () => okBody({ armed: await ctx.faults.list() }));

  app.delete('/_engine/faults', async () => {
    await ctx.faults.clear();
    return okBody({ armed: [] });
  });

  app.get('/_engine/renders', async () =>
    okBody({
      renders: (await ctx.renders.all()).map((r) => ({ id: r.id, session_id: r.sessionId, status: r.status, progress: r.progress, error: r.error ?? null, runs: r.runs ?? 0 })),
    }),
  );

  app.get('/_engine/stats', async () => {
    const [disk, renders, sessions] = [await ctx.housekeeping.usage(), await ctx.renders.all(), await ctx.sessions.all()];
    return okBody({
      tokens_issued: await ctx.accounts.issuedCount(),
      /** bytes of uploads and outputs on disk, against ENGINE_MAX_DISK_MB */
      disk: { used_bytes: disk.usedBytes, max_bytes: disk.maxBytes, files: disk.files },
      /** what expiry (ENGINE_TTL_S) and the disk bound freed since the engine started */
      freed: await ctx.store.freed.read(),
      renders_held: renders.length,
      sessions: sessions.map((s) => ({ id: s.id, user_id: s.userId, instructions: s.instructions, renders: renders.filter((r) => r.sessionId === s.id).length })),
    });
  });
}
