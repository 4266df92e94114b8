import { z } from 'zod';

/**
 * Faults a test (or an operator rehearsing an incident) arms on a running
 * engine, to meet each failure the seeds describe. Each rule fires a number of
 * times, then disarms itself.
 */
export const ENDPOINTS = [
  'anonymous_token', 'create_session', 'upload', 'run_sse', 'state', 'credits',
  'render_start', 'render_poll', 'render_cancel', 'download',
] as const;
export type EngineEndpoint = (typeof ENDPOINTS)[number];

/** The engine's routes by endpoint name. */
export const ENDPOINT_OF_ROUTE: Readonly<Record<string, EngineEndpoint>> = {
  'POST /api/auth/anonymous-token': 'anonymous_token',
  'POST /api/tasks/:user/with-session/nemo_agent': 'create_session',
  'POST /api/upload-video/nemo_agent/:user/:sid': 'upload',
  'POST /run_sse': 'run_sse',
  'GET /api/state/nemo_agent/:user/:sid/latest': 'state',
  'GET /api/credits/balance/simple': 'credits',
  'POST /api/render/proxy/lambda': 'render_start',
  'GET /api/render/proxy/lambda/:id': 'render_poll',
  'POST /api/render/proxy/lambda/:id/cancel': 'render_cancel',
  'GET /api/render/proxy/:id/download': 'download',
};

const times = z.number().int().min(1).max(1000).default(1);

export const faultRuleSchema = z.discriminatedUnion('kind', [
  /** the next `times` calls to `endpoint` answer business code (or HTTP status) `code` */
  z.object({ kind: z.literal('reply'), endpoint: z.enum(ENDPOINTS), code: z.number().int(), times, retry_after_s: z.number().int().min(0).optional() }),
  /** the next `times` /run_sse streams are cut after `after_events` frames (the edit still lands) */
  z.object({ kind: z.literal('drop-stream'), after_events: z.number().int().min(0), times }),
  /** the agent takes `seconds` over the next `times` instructions (heartbeats keep flowing at their interval) */
  z.object({ kind: z.literal('slow-agent'), seconds: z.number().min(0).max(900), times }),
  /** the next `times` instructions are charged, then their stream breaks and their edit is never stored (work lost after charging) */
  z.object({ kind: z.literal('lose-edit'), times }),
  /** the next `times` instructions get tool events but no text */
  z.object({ kind: z.literal('no-text'), times }),
  /** the next `times` renders fail */
  z.object({ kind: z.literal('render-fail'), times }),
  /** the next `times` renders wait `seconds` before they start */
  z.object({ kind: z.literal('render-delay'), seconds: z.number().min(0).max(600), times }),
  /** every token issued so far stops working now (1001) */
  z.object({ kind: z.literal('expire-tokens') }),
  /** every session is forgotten now (1002) */
  z.object({ kind: z.literal('forget-sessions') }),
  /** every render is forgotten now (404 on poll), its output deleted, as if the backend had expired it */
  z.object({ kind: z.literal('forget-renders') }),
]);

export type FaultRule = z.infer<typeof faultRuleSchema>;
type ArmedRule = Exclude<FaultRule, { kind: 'expire-tokens' | 'forget-sessions' | 'forget-renders' }>;

export class Faults {
  private armed: ArmedRule[] = [];

  arm(rule: ArmedRule): void {
    this.armed.push({ ...rule });
  }

  clear(): void {
    this.armed = [];
  }

  list(): readonly ArmedRule[] {
    return this.armed;
  }

  /** The first armed rule of a kind (and endpoint), used up by one firing. */
  take<K extends ArmedRule['kind']>(kind: K, endpoint?: EngineEndpoint): Extract<ArmedRule, { kind: K }> | undefined {
    const index = this.armed.findIndex((rule) => rule.kind === kind && (rule.kind !== 'reply' || rule.endpoint === endpoint));
    const rule = this.armed[index] as Extract<ArmedRule, { kind: K }> | undefined;
    if (!rule) return undefined;
    rule.times -= 1;
    if (rule.times <= 0) this.armed.splice(index, 1);
    return rule;
  }
}
