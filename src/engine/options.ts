import type { Logger } from '../shared/infra/logger.ts';
import type { RedisSettings } from '../shared/infra/redis.ts';

/**
 * Which of the reply variants listed in shared/upstream-protocol.md the engine
 * emits, so a client can be tested against each one.
 */
export interface Dialect {
  /** the render-poll reply shape (endpoint 8) */
  pollShape: 'envelope' | 'task' | 'flat';
  /** ADK event keys in camelCase (current) or snake_case (older servers) */
  sseKeys: 'camel' | 'snake';
  /** text as `partial` chunks, then one non-partial event repeating it whole */
  sseStreaming: boolean;
  /** old `{"type":"text"|"tool_call"|"heartbeat",…}` frames instead of ADK events */
  sseLegacyFrames: boolean;
  /** `{"type":"heartbeat"}` or an empty `data:` line */
  heartbeatStyle: 'typed' | 'empty';
  /** business error codes with HTTP 200, or with a matching 4xx status */
  businessErrorHttp: 'ok' | 'status';
  /** a run's `state_delta` (ADK) applied to the session before the agent runs, or ignored, as a backend that does not read it would */
  stateDelta: 'applied' | 'ignored';
}

export type PollShape = Dialect['pollShape'];

export interface EngineOptions {
  /** uploads and renders live under this directory: every engine of one backend shares it (ENGINE_DIR) */
  dataDir: string;
  logger: Logger;
  /** where the engine's state and render queue live: a redis:// URL, or the settings (Sentinel, Cluster, TLS) */
  redis: string | RedisSettings;
  /** ENGINE_REDIS_PREFIX: engines on the same prefix (and dataDir) form one backend */
  redisPrefix: string;
  /** base of cdn_url and outputUrl; derived from each request's protocol and host when unset */
  publicUrl?: string;
  /** tokens accepted besides issued ones (e.g. a configured NEMO_TOKEN) */
  staticTokens?: string[];
  initialCredits?: number;
  creditsPerInstruction?: number;
  maxUploadBytes?: number;
  urlFetchAllowlist?: string[];
  /** fraction of /run_sse replies that end with tool events and no text */
  noTextRate?: number;
  random?: () => number;
  /** heartbeat period while an instruction is being worked on */
  heartbeatMs?: number;
  /** how long the agent "thinks" about an instruction (heartbeats flow meanwhile) */
  agentDelayMs?: number;
  /** renders this engine process runs at once (ENGINE_RENDER_CONCURRENCY); more wait as `pending` in the render queue */
  renderConcurrency?: number;
  dialect?: Partial<Dialect>;
  /** serve the /_engine admin routes that arm faults and list renders (ENGINE_FAULTS=1); off in production */
  faults?: boolean;
  /** ENGINE_TTL_S: sessions (with their uploads) and finished renders (with their output) are freed this long after their last use */
  ttlMs?: number;
  /** ENGINE_MAX_DISK_MB: past it, the least recently used sessions and renders are freed first; uploads are refused (503) when even that leaves no room */
  maxDiskBytes?: number;
  /** ENGINE_BENCHMARK: renders skip ffmpeg and answer with one small pre-made MP4, accounts start with credits for a billion instructions (benchmarks of the orchestration only) */
  benchmark?: boolean;
}

export interface ResolvedEngineOptions extends Required<Omit<EngineOptions, 'publicUrl' | 'dialect'>> {
  publicUrl?: string;
  dialect: Dialect;
}

export const DEFAULT_DIALECT: Dialect = {
  pollShape: 'envelope',
  sseKeys: 'camel',
  sseStreaming: false,
  sseLegacyFrames: false,
  heartbeatStyle: 'typed',
  businessErrorHttp: 'ok',
  stateDelta: 'applied',
};

export const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_MAX_DISK_BYTES = 10 * 1024 * 1024 * 1024;

export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  return {
    dataDir: options.dataDir,
    logger: options.logger,
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    staticTokens: options.staticTokens?.filter(Boolean) ?? [],
    // a benchmark's thousands of jobs must not run an account out of credits
    initialCredits: options.initialCredits ?? (options.benchmark ? 1_000_000_000 : 100),
    creditsPerInstruction: options.creditsPerInstruction ?? 1,
    maxUploadBytes: options.maxUploadBytes ?? 200 * 1024 * 1024,
    urlFetchAllowlist: options.urlFetchAllowlist ?? [],
    noTextRate: options.noTextRate ?? 0.3,
    random: options.random ?? Math.random,
    heartbeatMs: options.heartbeatMs ?? 5_000,
    agentDelayMs: options.agentDelayMs ?? 0,
    renderConcurrency: options.renderConcurrency ?? 1,
    dialect: { ...DEFAULT_DIALECT, ...options.dialect },
    faults: options.faults ?? false,
    ttlMs: options.ttlMs ?? DEFAULT_TTL_MS,
    maxDiskBytes: options.maxDiskBytes ?? DEFAULT_MAX_DISK_BYTES,
    benchmark: options.benchmark ?? false,
  };
}
