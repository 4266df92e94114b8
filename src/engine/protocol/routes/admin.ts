import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { EngineContext } from '../context.ts';
import { EngineError, okBody } from '../envelope.ts';
import { faultRuleSchema, type FaultRule } from '../faults.ts';

/**
 * `/_engine/*`: arm faults and see what the engine did (renders, instructions
 * and tokens), so tests can count backend calls. Served only with
 * ENGINE_FAULTS=1.
 */
export function adminRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const rules = z.union([faultRuleSchema, z.array(faultRuleSchema)]);

  const apply = async (rule: FaultRule) => {
    if (rule.kind === 'expire-tokens') ctx.accounts.expireAll();
    else if (rule.kind === 'forget-sessions') ctx.sessions.clear();
    else if (rule.kind === 'forget-renders') {
      for (const render of ctx.renders.all()) ctx.runner.cancel(render);
      await ctx.housekeeping.forgetRenders();
    } else ctx.faults.arm(rule);
  };

  app.post('/_engine/faults', async (request) => {
    const parsed = rules.safeParse(request.body);
    if (!parsed.success) throw new EngineError(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    for (const rule of Array.isArray(parsed.data) ? parsed.data : [parsed.data]) await apply(rule);
    return okBody({ armed: ctx.faults.list() });
  });

  app.get('/_engine/faults', async () => okBody({ armed: ctx.faults.list() }));

  app.delete('/_engine/faults', async () => {
    ctx.faults.clear();
    return okBody({ armed: [] });
  });

  app.get('/_engine/renders', async () =>
    okBody({
      renders: [...ctx.renders.all()].map((r) => ({ id: r.id, session_id: r.sessionId, status: r.status, progress: r.progress, error: r.error ?? null })),
    }),
  );

  app.get('/_engine/stats', async () => {
    const disk = ctx.housekeeping.usage();
    return okBody({
      tokens_issued: ctx.accounts.issuedCount,
      /** bytes of uploads and outputs on disk, against ENGINE_MAX_DISK_MB */
      disk: { used_bytes: disk.usedBytes, max_bytes: disk.maxBytes, files: disk.files },
      /** what expiry (ENGINE_TTL_S) and the disk bound freed since the engine started */
      freed: ctx.housekeeping.freed,
      renders_held: [...ctx.renders.all()].length,
      sessions: ctx.sessions.all().map((s) => ({ id: s.id, user_id: s.userId, instructions: s.instructions, renders: [...ctx.renders.all()].filter((r) => r.sessionId === s.id).length })),
    });
  });
}
