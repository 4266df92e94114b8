import { z } from 'zod';
import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';

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
export type ArmedRule = Exclude<FaultRule, { kind: 'expire-tokens' | 'forget-sessions' | 'forget-renders' }>;

/** Appends a rule to the armed list. */
const ARM = new RedisScript(`
local raw = redis.call('GET', KEYS[1])
local rules = raw and cjson.decode(raw) or {}
table.insert(rules, cjson.decode(ARGV[1]))
redis.call('SET', KEYS[1], cjson.encode(rules))
return #rules
`);

/** The first armed rule of kind ARGV[1] (for a reply rule, of endpoint ARGV[2]), used up by one firing; nil when none. */
const TAKE = new RedisScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local rules = cjson.decode(raw)
for i, rule in ipairs(rules) do
  if rule.kind == ARGV[1] and (rule.kind ~= 'reply' or rule.endpoint == ARGV[2]) then
    rule.times = rule.times - 1
    local taken = cjson.encode(rule)
    if rule.times <= 0 then table.remove(rules, i) end
    if #rules == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], cjson.encode(rules)) end
    return taken
  end
end
return nil
`);

/** The armed rules, in Redis: every engine of the backend fires the same ones, each firing used up once whichever engine fires it. */
export class Faults {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async arm(rule: ArmedRule): Promise<void> {
    await ARM.run(this.redis, [this.key], [JSON.stringify(rule)]);
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }

  async list(): Promise<readonly ArmedRule[]> {
    const raw = await this.redis.get(this.key);
    return raw ? (JSON.parse(raw) as ArmedRule[]) : [];
  }

  /** The first armed rule of a kind (and endpoint), used up by one firing. */
  async take<K extends ArmedRule['kind']>(kind: K, endpoint?: EngineEndpoint): Promise<Extract<ArmedRule, { kind: K }> | undefined> {
    const taken = (await TAKE.run(this.redis, [this.key], [kind, endpoint ?? ''])) as string | null;
    return taken ? (JSON.parse(taken) as Extract<ArmedRule, { kind: K }>) : undefined;
  }
}
