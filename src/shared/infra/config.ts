import { accessSync, constants } from 'node:fs';
import { z } from 'zod';
import { parseBackendUrls } from '../backend/backend-urls.ts';

export interface ApiKey {
  tenant: string;
  key: string;
}

/** API_KEYS is `tenant=key,tenant=key`; a tenant may hold several keys. */
function parseApiKeys(raw: string, ctx: z.RefinementCtx): ApiKey[] {
  const pairs: ApiKey[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (eq <= 0 || !value) {
      ctx.addIssue({ code: 'custom', message: 'expected tenant=key pairs separated by commas' });
      return pairs;
    }
    pairs.push({ tenant: name, key: value });
  }
  return pairs;
}

/** WEBHOOK_SECRETS is `tenant=whsec_…,tenant=whsec_…`; one secret per tenant. Problems never quote a secret. */
function parseWebhookSecrets(raw: string, ctx: z.RefinementCtx): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const tenant = item.slice(0, eq).trim();
    const secret = item.slice(eq + 1).trim();
    if (eq <= 0 || !secret) {
      ctx.addIssue({ code: 'custom', message: 'expected tenant=whsec_… pairs separated by commas' });
      return secrets;
    }
    if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret.slice(6), 'base64').length < 16) {
      ctx.addIssue({ code: 'custom', message: `the secret of tenant "${tenant}" must be "whsec_" followed by base64 of at least 16 bytes` });
      continue;
    }
    if (secrets.has(tenant)) ctx.addIssue({ code: 'custom', message: `tenant "${tenant}" has more than one secret` });
    secrets.set(tenant, secret);
  }
  return secrets;
}

/** WEBHOOK_RETRY_SCHEDULE: seconds before each delivery attempt, the first usually 0. */
const retrySchedule = z
  .string()
  .default('0,5,300,1800,7200,18000,36000,50400,72000,86400')
  .transform((raw, ctx) => {
    const delays = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (delays.length === 0 || delays.length > 50 || delays.some((d) => !Number.isFinite(d) || d < 0 || d > 7 * 86400)) {
      ctx.addIssue({ code: 'custom', message: 'expected 1–50 comma-separated delays in seconds (0 to 604800), e.g. 0,5,300' });
      return z.NEVER;
    }
    return delays;
  });

const list = z
  .string()
  .default('')
  .transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean));

/** BACKEND_URL: one base URL or several, comma-separated; kept as the normalized list. */
const backendUrls = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const { urls, problems } = parseBackendUrls(raw);
    for (const problem of problems) ctx.addIssue({ code: 'custom', message: `${problem} (expected http(s) URLs separated by commas)` });
    return urls.map((url) => url.href.replace(/\/$/, '')).join(',');
  });

const port = z.coerce.number().int().min(0).max(65535);

/** REDIS_SENTINELS, REDIS_CLUSTER_NODES: host:port,host:port ([v6]:port for IPv6 addresses). */
const hostPorts = z.string().transform((raw, ctx) => {
  const nodes: { host: string; port: number }[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const portNumber = Number(match?.[2]);
    if (!match || portNumber < 1 || portNumber > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
      continue;
    }
    nodes.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port: portNumber });
  }
  if (nodes.length === 0) ctx.addIssue({ code: 'custom', message: 'expected host:port,host:port' });
  return nodes;
});

/** A PEM file that can be read at start-up (its path is kept; the factory reads it). */
const pemFile = z.string().refine((file) => {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}, 'the file cannot be read');

/** CORS_ORIGINS: exact origins (scheme, host, port; no path), comma-separated. */
const origins = list.superRefine((entries, ctx) => {
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      // reported below
    }
    if (origin !== entry) ctx.addIssue({ code: 'custom', message: `"${entry}" is not an origin such as https://shop.example.com` });
  }
});

const redisPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]*(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.:-]*$/, 'letters, digits, _ . - : and at most one {hash tag}')
  .refine((prefix) => prefix.replace(/[{}]/g, '') !== '', 'must not be empty');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/, 'letters, digits, _ . - and at most one {hash tag}')
    .refine((prefix) => prefix.replace(/[{}]/g, '') !== '', 'must not be empty')
    .default('i2v'),
  /** Redis Sentinel: the sentinels (host:port,host:port) that name the master REDIS_SENTINEL_MASTER; REDIS_URL is then not used */
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_MASTER: z.string().min(1).optional(),
  /** the sentinels' own password (requirepass of the sentinels), when they have one */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Redis Cluster: some of its nodes (host:port,…), the rest are discovered; REDIS_PREFIX must hold a {hash tag} */
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  /** with Sentinel or Cluster (a single Redis takes them in REDIS_URL): the data nodes' user and password */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** TLS to Sentinel or Cluster nodes (a single Redis: a rediss:// URL) */
  REDIS_TLS: z.stringbool().default(false),
  /** PEM files: the CA that signed Redis's certificate (instead of the system's), and a client certificate and its key */
  REDIS_TLS_CA: pemFile.optional(),
  REDIS_TLS_CERT: pemFile.optional(),
  REDIS_TLS_KEY: pemFile.optional(),
  /** how long the API waits for a Redis reply before answering 503 store_unavailable (workers wait for Redis to come back) */
  REDIS_TIMEOUT_S: z.coerce.number().positive().max(60).default(3),
  API_KEYS: z.string().default('').transform(parseApiKeys),
  /** where inputs and outputs live: the folder STORAGE_DIR, or the S3 bucket S3_BUCKET */
  STORAGE: z.enum(['local', 's3']).default('local'),
  STORAGE_DIR: z.string().min(1).default('./data'),
  /** the bucket, with STORAGE=s3 (credentials: the AWS SDK's default chain, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) */
  S3_BUCKET: z.string().min(3).max(63).optional(),
  /** an S3-compatible server (MinIO, R2, s3rver…), addressed path-style; unset: AWS S3 */
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:9000' }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** how long a presigned download URL stays valid (S3 allows at most 7 days) */
  S3_URL_TTL_S: z.coerce.number().int().min(1).max(604_800).default(3600),
  /** an S3 connection not made, or a request with no bytes moving, for this long fails (and is retried by the SDK) */
  S3_TIMEOUT_S: z.coerce.number().positive().max(600).default(30),
  /** days after a job finishes (or a file is uploaded) before its files are deleted; fractions allowed; 0 keeps them forever */
  RETENTION_DAYS: z.coerce.number().min(0).default(7),
  /** false: workers render every job, even work identical to an earlier job's (else they copy its stored output: the render cache) */
  RENDER_CACHE: z.stringbool().default(true),
  /** how often workers delete files past RETENTION_DAYS and records past HISTORY_DAYS */
  RETENTION_INTERVAL_S: z.coerce.number().positive().default(3600),
  /** days after a job (or batch) ends before its record leaves Redis, its files with it if still there; webhook deliveries are kept 7 days or this, whichever is shorter; fractions allowed */
  HISTORY_DAYS: z.coerce.number().positive().default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** the render backend: one base URL, or several (comma-separated) that calls are spread over and fail over between; unset: the embedded engine */
  BACKEND_URL: backendUrls,
  /** a BACKEND_URL that did not answer is skipped this long, doubled for each failure in a row (up to a minute), then tried again */
  BACKEND_URL_COOLDOWN_S: z.coerce.number().positive().max(3600).default(5),
  NEMO_TOKEN: z.string().default(''),
  /** after the backend rejects NEMO_TOKEN, workers use an anonymous token and try NEMO_TOKEN again after this; doubled after each rejection in a row, up to an hour */
  NEMO_TOKEN_RETRY_S: z.coerce.number().positive().max(3600).default(60),
  NEMO_CLIENT_ID: z.union([z.literal(''), z.uuid()]).default(''),
  SKILL_VERSION: z.string().min(1).default('1.0.0'),
  SKILL_PLATFORM: z.enum(['clawhub', 'cursor', 'unknown']).default('unknown'),
  URL_FETCH_ALLOWLIST: list,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** a tenant's queued jobs (a batch counts all its items) past which POST /v1/jobs and /v1/batches answer 429 tenant_queue_full; 0 = no limit */
  TENANT_MAX_QUEUED: z.coerce.number().int().min(0).default(0),
  /** templates (POST /v1/templates) a tenant may keep; one more answers 409 template_limit */
  TEMPLATES_MAX_PER_TENANT: z.coerce.number().int().min(1).default(200),
  /** a tenant's jobs running at once across all workers; the others wait queued without holding a worker slot; 0 = no limit */
  TENANT_MAX_RUNNING: z.coerce.number().int().min(0).default(0),
  /** render jobs waiting in the queue past which new jobs, batches, retries and revisions answer 503 queue_full; 0 = no limit */
  QUEUE_MAX_WAITING: z.coerce.number().int().min(0).default(0),
  ENGINE_PORT: port.default(8790),
  ENGINE_HOST: z.string().min(1).default('127.0.0.1'),
  ENGINE_DIR: z.string().min(1).default('./data/engine'),
  /** renders one engine runs at once (others wait as pending); x264 already uses every core, so raise it only on big machines */
  ENGINE_RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** serve the engine's /_engine admin routes (fault injection, render lists); for tests and drills only */
  ENGINE_FAULTS: z.stringbool().default(false),
  /** the engine's renders skip ffmpeg and answer with one pre-made test clip; for benchmarks only, refused with NODE_ENV=production */
  ENGINE_BENCHMARK: z.stringbool().default(false),
  /** the engine frees a session (with its uploads) and a finished render (with its MP4) this long after their last use; fractions allowed */
  ENGINE_TTL_S: z.coerce.number().positive().default(7 * 24 * 3600),
  /** the engine's disk bound for uploads and renders: past it, the least recently used are freed first; fractions allowed */
  ENGINE_MAX_DISK_MB: z.coerce.number().positive().default(10_240),
  /** the key prefix of the engine's state and render queue in Redis (default `<REDIS_PREFIX>:engine`); engines that share it (and ENGINE_DIR) form one backend */
  ENGINE_REDIS_PREFIX: redisPrefix.optional(),
  MAX_UPLOAD_MB: z.coerce.number().positive().max(2048).default(200),
  /** a picture declaring more pixels is refused before it is decoded */
  MAX_IMAGE_PIXELS: z.coerce.number().int().positive().default(100_000_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  /** browser origins allowed to call the API (CORS); empty: no CORS headers at all */
  CORS_ORIGINS: origins,
  /** a client that has not sent its request headers in this time is disconnected (slow-loris) */
  HTTP_HEADERS_TIMEOUT_S: z.coerce.number().positive().max(600).default(10),
  /** the longest a client may take to send a whole request, uploads included */
  HTTP_REQUEST_TIMEOUT_S: z.coerce.number().positive().max(86_400).default(300),
  /** an idle keep-alive connection is closed after this; keep it above a load balancer's idle timeout */
  HTTP_KEEP_ALIVE_TIMEOUT_S: z.coerce.number().positive().max(3600).default(72),
  SSE_KEEPALIVE_S: z.coerce.number().positive().max(300).default(15),
  BACKEND_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(1000),
  /** where an anonymous user whose credits ran out registers (the link gets ?bind=<user id>) */
  BACKEND_REGISTRATION_URL: z.url().default('https://nemovideo.ai'),
  /** a /run_sse stream with no bytes for this long is given up, and the state is read instead */
  SSE_IDLE_TIMEOUT_S: z.coerce.number().positive().default(120),
  /** how long an instruction's edit may take to appear in the state: after a reply of tool events only (then instruction_not_applied), or a broken stream that was charged (then instruction_uncertain) */
  INSTRUCTION_LANDING_WAIT_S: z.coerce.number().positive().default(60),
  /** attempts of a render job before it fails (network errors, timeouts, 5xx) */
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  /** first retry delay; doubled each attempt, with jitter */
  JOB_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
  /** the longest a job may take from its first start, across attempts and their backoff; past it the job fails with job_timeout */
  JOB_TIMEOUT_S: z.coerce.number().positive().default(3600),
  /** a backend render not finished this long after it started is canceled and replaced once (then render_timeout) */
  RENDER_TIMEOUT_S: z.coerce.number().positive().default(1800),
  /** the longest the queue waits on a backend's 429 Retry-After; each 429 also spends one of the job's attempts */
  BACKEND_RETRY_AFTER_MAX_S: z.coerce.number().positive().default(300),
  /** on SIGTERM, how long running stages may take to reach a checkpoint */
  SHUTDOWN_GRACE_S: z.coerce.number().min(0).default(30),
  /** how often a worker looks for jobs left running by a worker that vanished, or left queued without a queue entry for longer than this */
  WATCHDOG_INTERVAL_S: z.coerce.number().positive().default(60),
  /** how often workers read the backend's credit balance for GET /v1/credits */
  CREDITS_REFRESH_S: z.coerce.number().positive().default(60),
  /** a running job's lock; a worker that stops renewing it (crashed, frozen) loses the job to another after this */
  WORKER_LOCK_MS: z.coerce.number().int().min(500).default(30_000),
  /** how often workers look for jobs whose lock has lapsed */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(200).default(30_000),
  /** times a job may lose its worker before BullMQ gives up on it (the watchdog then fails it as worker_lost) */
  WORKER_MAX_STALLS: z.coerce.number().int().min(0).default(5),
  /** per-tenant webhook signing secrets (tenant=whsec_…); other tenants get one generated and kept in Redis */
  WEBHOOK_SECRETS: z.string().default('').transform(parseWebhookSecrets),
  /** seconds before each webhook delivery attempt (jittered); its length is the number of attempts */
  WEBHOOK_RETRY_SCHEDULE: retrySchedule,
  /** a webhook receiver that has not answered in this many seconds counts as a failed (retried) attempt */
  WEBHOOK_TIMEOUT_S: z.coerce.number().positive().max(60).default(10),
  /** the operator key of /admin/queues, /metrics and /v1/admin/stats (Bearer, or Basic as user "admin"); unset: those routes are off */
  ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** a worker serves its Prometheus metrics on HOST:METRICS_PORT/metrics (needs ADMIN_KEY); unset: no metrics server */
  METRICS_PORT: port.optional(),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The tenant and key used when no API_KEYS are configured outside production. */
export const DEV_TENANT = { tenant: 'dev', key: 'dev-key' } as const;

/**
 * Reads the environment once. Every invalid variable is reported in one error
 * so an operator can fix them all in one go. A process that serves the API
 * refuses to run in production without API keys; the worker and engine don't
 * serve clients and may.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  { servesApi = true }: { servesApi?: boolean } = {},
): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(env)'}: ${issue.message}`);
    }
  } else if (servesApi && parsed.data.NODE_ENV === 'production' && parsed.data.API_KEYS.length === 0) {
    problems.push('API_KEYS: required when NODE_ENV=production (format: tenant=key,tenant=key)');
  }
  if (parsed.success && parsed.data.STORAGE === 's3' && !parsed.data.S3_BUCKET) {
    problems.push('S3_BUCKET: required when STORAGE=s3');
  }
  if (parsed.success && parsed.data.NODE_ENV === 'production' && parsed.data.ENGINE_BENCHMARK) {
    problems.push('ENGINE_BENCHMARK: benchmark mode answers every render with a test clip; it cannot be used with NODE_ENV=production');
  }
  if (parsed.success && parsed.data.METRICS_PORT !== undefined && !parsed.data.ADMIN_KEY) {
    problems.push('METRICS_PORT: the metrics server needs ADMIN_KEY (scrapers send it as a Bearer token)');
  }
  if (parsed.success) problems.push(...redisProblems(parsed.data));
  if (parsed.success && parsed.data.HTTP_HEADERS_TIMEOUT_S > parsed.data.HTTP_REQUEST_TIMEOUT_S) {
    problems.push('HTTP_HEADERS_TIMEOUT_S: must not be longer than HTTP_REQUEST_TIMEOUT_S');
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Redis settings that cannot go together (Sentinel, Cluster, TLS, the prefix's hash tag). */
function redisProblems(config: Config): string[] {
  const problems: string[] = [];
  const sentinel = config.REDIS_SENTINELS !== undefined;
  const cluster = config.REDIS_CLUSTER_NODES !== undefined;
  if (sentinel && cluster) problems.push('REDIS_SENTINELS: cannot be used with REDIS_CLUSTER_NODES (choose Sentinel or Cluster)');
  if (sentinel && !config.REDIS_SENTINEL_MASTER) problems.push('REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS (the master name the sentinels monitor)');
  if (!sentinel && config.REDIS_SENTINEL_MASTER) problems.push('REDIS_SENTINEL_MASTER: only used with REDIS_SENTINELS');
  if (!sentinel && config.REDIS_SENTINEL_PASSWORD) problems.push('REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS');
  if (cluster && hashTag(config.REDIS_PREFIX) === undefined) {
    problems.push(`REDIS_PREFIX: with REDIS_CLUSTER_NODES it must hold a hash tag, e.g. {${config.REDIS_PREFIX}}, so that every key of a job (and of BullMQ's queues) is in one slot`);
  }
  if (cluster && config.ENGINE_REDIS_PREFIX !== undefined && hashTag(config.ENGINE_REDIS_PREFIX) === undefined) {
    problems.push('ENGINE_REDIS_PREFIX: with REDIS_CLUSTER_NODES it must hold a hash tag, e.g. {i2v}:engine, so that the engine\'s keys (and its render queue\'s) are in one slot');
  }
  if (!sentinel && !cluster) {
    if (config.REDIS_USERNAME || config.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: only used with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis takes it in REDIS_URL (redis://:password@host:port)');
    if (config.REDIS_TLS) problems.push('REDIS_TLS: only used with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis over TLS is a rediss:// REDIS_URL');
  }
  const tls = sentinel || cluster ? config.REDIS_TLS : config.REDIS_URL.startsWith('rediss://');
  if (!tls && (config.REDIS_TLS_CA || config.REDIS_TLS_CERT || config.REDIS_TLS_KEY)) {
    problems.push('REDIS_TLS_CA: the REDIS_TLS_* files need TLS on (a rediss:// REDIS_URL, or REDIS_TLS=true with Sentinel or Cluster)');
  }
  if (Boolean(config.REDIS_TLS_CERT) !== Boolean(config.REDIS_TLS_KEY)) problems.push('REDIS_TLS_CERT: a client certificate needs its key (REDIS_TLS_KEY), and the key its certificate');
  return problems;
}

/** The hash tag of a key prefix (`i2v` of `{i2v}`), which decides the Redis Cluster slot of every key under it; undefined when it has none. */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/** tenant by key; falls back to the dev tenant when none are configured. */
export function apiKeysByKey(config: Config): Map<string, string> {
  if (config.API_KEYS.length === 0) return new Map([[DEV_TENANT.key, DEV_TENANT.tenant]]);
  return new Map(config.API_KEYS.map(({ tenant, key }) => [key, tenant]));
}

/** Where the engine keeps its state and render queue in Redis: ENGINE_REDIS_PREFIX, else `<REDIS_PREFIX>:engine` (same hash tag). */
export function engineRedisPrefixOf(config: Config): string {
  return config.ENGINE_REDIS_PREFIX ?? `${config.REDIS_PREFIX}:engine`;
}

/** The render backend the workers use: BACKEND_URL (one URL or several, comma-separated), else the embedded engine at ENGINE_HOST:ENGINE_PORT. */
export function backendUrlOf(config: Config): string {
  return config.BACKEND_URL || `http://${config.ENGINE_HOST}:${config.ENGINE_PORT}`;
}
