import type { Redis } from '../infra/redis.ts';
import type { BackendDraft } from './backend-draft.ts';
import type { JobErrorInfo } from '../errors/job-error.ts';
import type { Preset } from './presets.ts';
import type { JobOptions, OutputFormat } from './job-options.ts';
import type { RenderedOutput } from '../backend/render-status.ts';
import { bullPriority, PRIORITY_CLASSES, prioritizedKey, waitListKey, type PriorityClass } from '../infra/queues.ts';
import { RedisScript } from '../infra/redis-script.ts';
import { createLogger, type Logger } from '../infra/logger.ts';
import { JOB_LIFECYCLE, TERMINAL_STATUSES, type JobStage, type JobStatus, type StatusEvent, type WebhookEvent } from './job-lifecycle.ts';

export { JOB_STAGES, JOB_STATUSES, TERMINAL_STATUSES, WEBHOOK_EVENTS, type JobStage, type JobStatus, type WebhookEvent } from './job-lifecycle.ts';

/** What an input is for: a picture (or short video) of the timeline, its background music, or the logo over it. */
export type InputRole = 'image' | 'audio' | 'logo';

/** An input as the API stored it: a file in storage, or a URL the worker fetches. */
export type JobInput =
  | { kind: 'file'; role: InputRole; key: string; filename: string; contentType?: string; sizeBytes: number }
  | { kind: 'url'; role: InputRole; url: string };

/** A file the backend holds for the job's session (its upload reply, normalized). */
export interface BackendFileRef {
  filename: string;
  fileType: string;
  cdnUrl: string;
}

/** The token a backend session was made with: NEMO_TOKEN, or the fleet's anonymous one (sessions belong to their account). */
export type BackendTokenKind = 'configured' | 'anonymous';

/**
 * What each finished stage leaves behind, so a job picked up again resumes
 * from the last one instead of repeating paid or slow work.
 */
export interface Checkpoint {
  sessionId?: string;
  /** the kind of token the session was made with; the job's backend calls use that kind */
  sessionToken?: BackendTokenKind;
  uploaded?: BackendFileRef[];
  instruction?: {
    text: string;
    sentAt: string;
    /** fingerprint of the session's draft when it was sent ('' for none), to see whether the edit landed */
    draftBefore?: string;
    /** the backend's available credits when it was sent, to see whether it was charged */
    creditsBefore?: number;
    completedAt?: string;
    reply?: string;
  };
  /** the edited draft, read only as far as the protocol defines it */
  draft?: BackendDraft;
  /** `draft` as the backend's state wrote it: the render sends these bytes (unset once the worker changed the draft) */
  draftJson?: string;
  /**
   * a revision's: the timeline its instruction edits, restored in the session
   * before it is sent (the parent's draft; after a lost session, the rebuilt one)
   */
  baseDraft?: BackendDraft;
  /**
   * the files `draft` points at, kept when the backend lost their session: the
   * upload stage moves the draft onto the files uploaded again, so the saved
   * draft is rendered without a second instruction
   */
  draftFiles?: BackendFileRef[];
  renderId?: string;
  /** which render of the job this is (1, 2, …): each failed or timed-out render is replaced by one with the next number */
  renderAttempt?: number;
  /** the renderAttempt before the job's latest run of renders (set when it failed for good, so a retry may render twice again); renders the backend lost move it on too, as they did not fail */
  rendersCountFrom?: number;
  /** renders of this run the backend no longer knew (404: restarted, or expired) and that were exported again from the saved draft */
  rendersLost?: number;
  renderStartedAt?: string;
  renderOutputUrl?: string;
  /** every file of the finished render, first the main one, when the backend lists them (renditions) */
  renderOutputs?: RenderedOutput[];
  /** a revision in a new session must first replay its parents' instructions (the backend lost the old one) */
  replayPending?: boolean;
  /** credits the backend reported for this job's instruction */
  creditsUsed?: number;
  /** the render cache's key of the job's work (render-cache/), once looked up: a succeeded job's output is stored under it */
  cacheKey?: string;
  /** the job whose stored output this one copied (a render cache hit); its session, upload and timeline came along, so it can be revised */
  servedFrom?: string;
}

/** A template at one version, as a job made from it names it. */
export interface TemplateRef {
  id: string;
  version: number;
}

/** One stored rendition of a succeeded job. */
export interface StoredOutput {
  format: OutputFormat;
  videoKey: string;
  posterKey: string;
  width: number;
  height: number;
  durationS: number;
  sizeBytes: number;
}

export interface JobResult {
  videoKey: string;
  posterKey: string;
  width: number;
  height: number;
  durationS: number;
  sizeBytes: number;
  timelineSummary?: string;
  /** credits the backend reported for this job, when it reports them */
  creditsUsed?: number;
  message?: string;
  /** every rendition, the first being videoKey's; unset on jobs stored before renditions (their one output is videoKey) */
  outputs?: StoredOutput[];
  /** the output was copied from an earlier job's identical work (the render cache), nothing was rendered */
  cached?: boolean;
}

export interface JobRecord {
  id: string;
  tenant: string;
  status: JobStatus;
  stage: JobStage;
  progress: number;
  preset: Preset;
  prompt: string;
  options: JobOptions;
  inputs: JobInput[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  attempts: number;
  result?: JobResult;
  error?: JobErrorInfo;
  checkpoint: Checkpoint;
  /** the client's own labels, echoed everywhere */
  metadata: Record<string, string>;
  webhookUrl?: string;
  webhookEvents: WebhookEvent[];
  /** the job this one revises */
  parentId?: string;
  /** instructions to replay, in order, if this revision's session is lost and must be rebuilt */
  lineage?: string[];
  /** the batch this job belongs to */
  batchId?: string;
  /** the template (and its version) the job's body was merged from (POST /v1/jobs or /v1/batches with template_id) */
  template?: TemplateRef;
  /** when retention deleted the job's files (RETENTION_DAYS after it finished); an expired job never changes status again */
  expiredAt?: string;
  /** its priority class (default normal) */
  priority?: PriorityClass;
  /** its BullMQ priority (class band + the tenant's rank when submitted, queues.ts `bullPriority`), set by `create` */
  queuePriority?: number;
  /** the BullMQ lock token of the attempt that runs the job: a worker's writes are refused once another attempt took the job over */
  owner?: string;
}

/**
 * A write made for an attempt that no longer owns its job (another worker
 * took it over after this one's BullMQ lock lapsed): nothing was written, and
 * the attempt must stop.
 */
export class SupersededError extends Error {
  override name = 'SupersededError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} is run by another attempt now; this one stops without writing`);
  }
}

/** Fields stored as JSON inside the hash; the rest are plain strings or numbers. */
const JSON_FIELDS = new Set(['options', 'inputs', 'result', 'error', 'checkpoint', 'metadata', 'webhookEvents', 'lineage', 'template']);
const NUMBER_FIELDS = new Set(['progress', 'attempts', 'queuePriority']);

function toHash(patch: Partial<JobRecord>): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    hash[field] = JSON_FIELDS.has(field) ? JSON.stringify(value) : String(value);
  }
  return hash;
}

function fromHash(hash: Record<string, string>): JobRecord {
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(hash)) {
    record[field] = JSON_FIELDS.has(field) ? JSON.parse(value) : NUMBER_FIELDS.has(field) ? Number(value) : value;
  }
  record.checkpoint ??= {};
  record.metadata ??= {};
  record.webhookEvents ??= [];
  return record as unknown as JobRecord;
}

/** An Idempotency-Key a new record is written under: only while it is free (SET NX with a TTL). */
export interface RecordClaim {
  key: string;
  value: string;
  ttlS: number;
}

/** Limits a new record is written under (0 = none); `reserve`: the jobs it counts for (a batch's first record counts them all). */
export interface CreateLimits {
  /** TENANT_MAX_QUEUED */
  tenantMaxQueued?: number;
  /** QUEUE_MAX_WAITING */
  queueMaxWaiting?: number;
  reserve?: number;
}

/** What `transition` knows of the job beyond its id (see there). */
export interface TransitionScope {
  tenant?: string;
  tenantMaxRunning?: number;
}

/** The lowest BullMQ priority of each class, and the most a rank adds: a retried job's priority is computed in the script. */
const PRIORITY_BASES = JSON.stringify(Object.fromEntries(PRIORITY_CLASSES.map((c) => [c, bullPriority(c, 0)])));
const RANK_CAP = bullPriority('normal', Number.MAX_SAFE_INTEGER) - bullPriority('normal', 0);

export type CreateOutcome =
  /**
   * `waitingAhead`: render jobs ahead of it once it is enqueued with
   * `queuePriority` right after (its BullMQ priority, from its class and the
   * tenant's rank)
   */
  | { created: true; waitingAhead: number; queuePriority: number }
  /** a limit refused it (nothing was written): the tenant's queued jobs, or the whole queue */
  | { created: false; refused: 'tenant_queue_full' | 'queue_full' }
  /** the claim's key was taken: nothing was written; `claimedBy` is the key's value */
  | { created: false; claimedBy: string };

/**
 * Job records live in one Redis hash per job, read by the API and written by
 * workers; BullMQ only carries the job id. Every write publishes the job's id
 * on its events channel in the same round trip, so any process can follow a
 * job (the SSE stream, `Prefer: wait`). Each tenant has an index of its job
 * ids; ids are time-ordered, so the index is read newest first by id.
 */
export class JobRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** where refused transitions are logged */
    private readonly logger: Logger = createLogger({ level: 'silent' }),
  ) {}

  key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  /** The channel a job's changes are announced on. */
  eventsChannel(id: string): string {
    return `${this.prefix}:job-events:${id}`;
  }

  /** ids of the jobs whose status is `running`, kept by `transition`; the watchdog reads it */
  runningSet(): string {
    return `${this.prefix}:running`;
  }

  /** ids of ended jobs whose files are still stored, scored by when they ended (ms), kept by `transition`; retention reads it */
  finishedSet(): string {
    return `${this.prefix}:finished`;
  }

  /** ids of every ended job, scored by when it ended (ms), kept by `transition`; records past HISTORY_DAYS are deleted from it */
  historySet(): string {
    return `${this.prefix}:history`;
  }

  /** ids of the jobs whose status is `queued`, scored by when they became queued (ms), kept by `create` and `transition`; the watchdog reads it */
  queuedSet(): string {
    return `${this.prefix}:queued`;
  }

  private tenantIndex(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:jobs`;
  }

  /** ids of the tenant's queued jobs, kept with the queued set by `create` and `transition`: the tenant's rank and TENANT_MAX_QUEUED */
  tenantQueuedSet(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:queued`;
  }

  /**
   * ids of the tenant's jobs an attempt runs now (TENANT_MAX_RUNNING): added
   * by `start`, removed by every status change away from running and by
   * `releaseRunning` (an attempt that ends while its job stays running, to be
   * retried). A job taken over after its worker died keeps its place.
   */
  tenantRunningSet(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:running`;
  }

  /**
   * Writes a new job's record and its tenant-index entry, in one round trip
   * with the Idempotency-Key `claim` (when given, nothing is written unless
   * the key was free; a replay is answered before any limit), the `limits`
   * and the job's BullMQ priority: its class's band plus the tenant's queued
   * jobs (its rank), stored as `queuePriority`.
   */
  async create(record: JobRecord, claim?: RecordClaim, limits: CreateLimits = {}): Promise<CreateOutcome> {
    const { queuePriority: _ignored, ...rest } = record;
    const fields = Object.entries(toHash(rest)).flat();
    const base = bullPriority(record.priority ?? 'normal', 0);
    const reply = (await CREATE.run(
      this.redis,
      [
        this.key(record.id),
        this.tenantIndex(record.tenant),
        waitListKey(this.prefix),
        this.queuedSet(),
        this.tenantQueuedSet(record.tenant),
        prioritizedKey(this.prefix),
        ...(claim ? [claim.key] : []),
      ],
      [
        record.id,
        claim?.value ?? '',
        claim?.ttlS ?? 0,
        Date.parse(record.createdAt) || Date.now(),
        base,
        RANK_CAP,
        limits.tenantMaxQueued ?? 0,
        limits.queueMaxWaiting ?? 0,
        limits.reserve ?? 1,
        ...fields,
      ],
    )) as [number, number | string, number?];
    if (reply[0] === 1) {
      record.queuePriority = Number(reply[2]);
      return { created: true, waitingAhead: Number(reply[1]), queuePriority: Number(reply[2]) };
    }
    if (reply[0] === -1) return { created: false, refused: 'tenant_queue_full' };
    if (reply[0] === -2) return { created: false, refused: 'queue_full' };
    return { created: false, claimedBy: String(reply[1]) };
  }

  /** Render jobs waiting in BullMQ (its wait list and prioritized set), as QUEUE_MAX_WAITING counts them. */
  async waitingJobs(): Promise<number> {
    const [waiting, prioritized] = await Promise.all([this.redis.llen(waitListKey(this.prefix)), this.redis.zcard(prioritizedKey(this.prefix))]);
    return waiting + prioritized;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    return hash.id ? fromHash(hash) : undefined;
  }

  /**
   * `owner` (here and in `checkpoint` and `transition`): write only while the
   * record names that attempt as its owner, else throw SupersededError.
   */
  async update(id: string, patch: Partial<Omit<JobRecord, 'id' | 'checkpoint'>>, owner?: string): Promise<void> {
    const hash = toHash(patch);
    if (Object.keys(hash).length === 0) return;
    const written = await UPDATE.run(this.redis, [this.key(id)], [this.eventsChannel(id), id, owner ?? '', ...Object.entries(hash).flat()]);
    if (written !== 1) throw new SupersededError(id);
  }

  /** Merges into the checkpoint; a stage calls this before the next stage begins. */
  async checkpoint(id: string, current: Checkpoint, patch: Checkpoint, owner?: string): Promise<Checkpoint> {
    const next = { ...current, ...patch };
    const written = await CHECKPOINT.run(this.redis, [this.key(id)], [owner ?? '', JSON.stringify(next)]);
    if (written !== 1) throw new SupersededError(id);
    return next;
  }

  /** Whether the record names `owner` as the attempt that runs the job. */
  async owns(id: string, owner: string): Promise<boolean> {
    return (await this.redis.hget(this.key(id), 'owner')) === owner;
  }

  /**
   * Applies a lifecycle event (job-lifecycle.ts) to a job: moves it to the
   * event's status, with the fields the event sets and clears, only while its
   * status is one of the event's `from`, atomically (a cancel racing a
   * worker's last write must not both win). Returns whether it moved; a
   * refused event is logged. `scope.tenant` (the record's tenant, when the
   * caller has read it) spares the script a round trip to read it;
   * `scope.tenantMaxRunning` is the `start` event's TENANT_MAX_RUNNING.
   */
  async transition(id: string, event: StatusEvent, patch: Partial<JobRecord> = {}, owner?: string, scope: TransitionScope = {}): Promise<boolean> {
    return (await this.move(id, event, patch, owner, scope)) === 'moved';
  }

  /**
   * The `start` event of an attempt: 'tenant-busy' (nothing written) when the
   * tenant already runs `tenantMaxRunning` jobs and this one is not one of them.
   */
  async start(id: string, patch: Partial<JobRecord>, scope: TransitionScope): Promise<'moved' | 'refused' | 'tenant-busy'> {
    return this.move(id, 'start', patch, undefined, scope);
  }

  private async move(id: string, event: StatusEvent, patch: Partial<JobRecord>, owner: string | undefined, scope: TransitionScope): Promise<'moved' | 'refused' | 'tenant-busy'> {
    const { from, to, ...effects } = JOB_LIFECYCLE[event];
    const sets = 'sets' in effects ? effects.sets : {};
    const clear = 'clears' in effects ? effects.clears : [];
    const finishedAtMs = TERMINAL_STATUSES.has(to) ? Date.parse(patch.finishedAt ?? '') || Date.now() : undefined;
    // the tenant's sets are keys of the script (scripts touch only their KEYS)
    const tenant = scope.tenant ?? (await this.redis.hget(this.key(id), 'tenant')) ?? '';
    const moved = await TRANSITION.run(
      this.redis,
      [this.key(id), this.runningSet(), this.finishedSet(), this.queuedSet(), this.historySet(), this.tenantQueuedSet(tenant), this.tenantRunningSet(tenant)],
      [
        this.eventsChannel(id),
        id,
        JSON.stringify(from),
        JSON.stringify({ ...toHash({ ...sets, ...patch }), status: to }),
        JSON.stringify(clear),
        finishedAtMs === undefined ? '' : String(finishedAtMs),
        Date.now(),
        owner ?? '',
        scope.tenantMaxRunning ?? 0,
        PRIORITY_BASES,
        RANK_CAP,
      ],
    );
    if (moved === -1) throw new SupersededError(id);
    if (moved === -2) return 'tenant-busy';
    if (moved !== 1) {
      const [status, expiredAt] = await this.redis.hmget(this.key(id), 'status', 'expiredAt');
      this.logger.warn({ job_id: id, event, status, expired: expiredAt !== null }, 'job lifecycle event refused in its current status');
    }
    return moved === 1 ? 'moved' : 'refused';
  }

  /**
   * Gives back the tenant's running place an attempt took (`start`) when the
   * attempt ends without a status change that gave it back already (a retry
   * after backoff, a 429 back-off): only while the record still names
   * `owner`, so an attempt that was taken over does not free its successor's.
   */
  async releaseRunning(id: string, tenant: string, owner: string): Promise<void> {
    await RELEASE_RUNNING.run(this.redis, [this.key(id), this.tenantRunningSet(tenant)], [id, owner]);
  }

  /** How many of the tenant's jobs hold a running place (TENANT_MAX_RUNNING counts them). */
  async tenantRunning(tenant: string): Promise<number> {
    return this.redis.scard(this.tenantRunningSet(tenant));
  }

  /** Up to `count` ids of jobs that ended before `cutoffMs` and still have their files, oldest first. */
  async finishedBefore(cutoffMs: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.finishedSet(), '-inf', cutoffMs, 'LIMIT', 0, count);
  }

  /**
   * Marks a job that ended before `cutoffMs` as expired (its files are about
   * to be deleted), atomically with status changes: a job retried meanwhile
   * is left alone. Returns whether its files may be deleted; call
   * `forgetFinished` once they are.
   */
  async markExpired(id: string, cutoffMs: number, at: string): Promise<boolean> {
    const marked = await this.redis.eval(
      EXPIRE_SCRIPT,
      2,
      this.key(id),
      this.finishedSet(),
      this.eventsChannel(id),
      id,
      String(cutoffMs),
      at,
      JSON.stringify(JOB_LIFECYCLE.expire.from),
    );
    return marked === 1;
  }

  async forgetFinished(id: string): Promise<void> {
    await this.redis.zrem(this.finishedSet(), id);
  }

  /** Up to `count` ids of jobs that ended before `cutoffMs`, oldest first, from the `offset`th on. */
  async endedBefore(cutoffMs: number, offset: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.historySet(), '-inf', cutoffMs, 'LIMIT', offset, count);
  }

  /**
   * Deletes the record of a job that ended before `cutoffMs` and is marked
   * expired (its files are gone; it never changes status again), with its
   * entries in the tenant index and the sets. 'kept' when it is not due.
   */
  async deleteEnded(id: string, cutoffMs: number): Promise<'deleted' | 'gone' | 'kept'> {
    const tenant = await this.redis.hget(this.key(id), 'tenant');
    const outcome = await DELETE_ENDED.run(
      this.redis,
      [this.key(id), this.historySet(), this.finishedSet(), this.queuedSet(), this.runningSet(), ...(tenant === null ? [] : [this.tenantIndex(tenant)])],
      [id, cutoffMs],
    );
    return outcome === 1 ? 'deleted' : outcome === 2 ? 'gone' : 'kept';
  }

  /** Up to `count` ids of jobs that became queued before `cutoffMs`, oldest first, from the `offset`th on. */
  async queuedBefore(cutoffMs: number, offset: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.queuedSet(), '-inf', cutoffMs, 'LIMIT', offset, count);
  }

  async forgetQueued(id: string): Promise<void> {
    await this.redis.zrem(this.queuedSet(), id);
  }

  /** The tenant's job ids, newest first, after `cursor` (an id) when given. */
  async listIds(tenant: string, count: number, cursor?: string): Promise<string[]> {
    const max = cursor ? `(${cursor}` : '+';
    return this.redis.zrevrangebylex(this.tenantIndex(tenant), max, '-', 'LIMIT', 0, count);
  }

  async runningIds(): Promise<string[]> {
    return this.redis.smembers(this.runningSet());
  }

  async forgetRunning(id: string): Promise<void> {
    await this.redis.srem(this.runningSet(), id);
  }

  async getMany(ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([, hash]) => hash as Record<string, string>).filter((hash) => hash?.id).map(fromHash);
  }
}

/**
 * KEYS: the record, the tenant index, the render queue's wait list, the
 * queued set, the tenant's queued set, the render queue's prioritized set,
 * then the Idempotency-Key (none when there is no key; a script gets real
 * keys only, which Redis Cluster routes by); ARGV: id, the key's value, its
 * TTL (s), the creation time (ms), the class's lowest BullMQ priority, the
 * most rank adds to it, TENANT_MAX_QUEUED and QUEUE_MAX_WAITING (0 = none),
 * the jobs the limits count this for, then the record's fields and values.
 * Returns {1, jobs ahead, BullMQ priority}, {0, the key's value}, {-1}
 * (tenant's limit) or {-2} (queue's limit).
 */
const CREATE = new RedisScript(`
if KEYS[7] and not redis.call('SET', KEYS[7], ARGV[2], 'EX', ARGV[3], 'NX') then return {0, redis.call('GET', KEYS[7])} end
local reserve = tonumber(ARGV[9])
local waiting = redis.call('LLEN', KEYS[3])
local maxWaiting = tonumber(ARGV[8])
local rank = redis.call('ZCARD', KEYS[5])
local maxQueued = tonumber(ARGV[7])
local refused = nil
if maxWaiting > 0 and waiting + redis.call('ZCARD', KEYS[6]) + reserve > maxWaiting then refused = -2
elseif maxQueued > 0 and rank + reserve > maxQueued then refused = -1 end
if refused then
  -- the key was free: a refused request leaves it free, as if nothing had been asked
  if KEYS[7] then redis.call('DEL', KEYS[7]) end
  return {refused}
end
local priority = tonumber(ARGV[5]) + math.min(rank, tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'queuePriority', priority, unpack(ARGV, 10))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
local ahead = redis.call('ZCOUNT', KEYS[6], '-inf', '(' .. string.format('%.0f', (priority + 1) * 4294967296))
return {1, waiting + ahead, priority}
`);

/** KEYS: the record; ARGV: its events channel, the id, the owner ('' for any), then fields and values. 0 when another attempt owns the job. */
const UPDATE = new RedisScript(`
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`);

/** KEYS: the record; ARGV: the owner ('' for any), the checkpoint (JSON). 0 when another attempt owns the job. */
const CHECKPOINT = new RedisScript(`
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[2])
return 1
`);

/**
 * KEYS: the record, the running set, the finished set, the queued set, the
 * history set, the tenant's queued set, the tenant's running set; ARGV:
 * channel, id, allowed statuses (JSON), fields to set (JSON), fields to
 * delete (JSON), end time in ms when the new status is terminal (else ''),
 * now (ms), the owner ('' for any), TENANT_MAX_RUNNING (0 = none), each
 * class's lowest BullMQ priority (JSON), the most a rank adds. An expired
 * job never moves; -1 when another attempt owns the job, -2 when it would
 * start while its tenant runs TENANT_MAX_RUNNING others. A job that becomes
 * queued again (a retry) gets the BullMQ priority of its class and of its
 * tenant's rank now (`queuePriority`), as a new job would.
 */
const TRANSITION = new RedisScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if ARGV[8] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[8] then return -1 end
if redis.call('HEXISTS', KEYS[1], 'expiredAt') == 1 then return 0 end
local allowed = cjson.decode(ARGV[3])
for _, s in ipairs(allowed) do
  if s == status then
    local fields = cjson.decode(ARGV[4])
    local tenantRunning = KEYS[7]
    local maxRunning = tonumber(ARGV[9])
    if fields['status'] == 'running' and maxRunning > 0 and redis.call('SISMEMBER', tenantRunning, ARGV[2]) == 0
      and redis.call('SCARD', tenantRunning) >= maxRunning then return -2 end
    local tenantQueued = KEYS[6]
    if fields['status'] == 'queued' then
      local class = redis.call('HGET', KEYS[1], 'priority') or 'normal'
      local base = cjson.decode(ARGV[10])[class] or cjson.decode(ARGV[10])['normal']
      fields['queuePriority'] = tostring(base + math.min(redis.call('ZCARD', tenantQueued), tonumber(ARGV[11])))
    end
    local flat = {}
    for k, v in pairs(fields) do table.insert(flat, k); table.insert(flat, v) end
    redis.call('HSET', KEYS[1], unpack(flat))
    local clear = cjson.decode(ARGV[5])
    if #clear > 0 then redis.call('HDEL', KEYS[1], unpack(clear)) end
    if fields['status'] == 'running' then
      redis.call('SADD', KEYS[2], ARGV[2])
      redis.call('SADD', tenantRunning, ARGV[2])
    else
      redis.call('SREM', KEYS[2], ARGV[2])
      redis.call('SREM', tenantRunning, ARGV[2])
    end
    if fields['status'] == 'queued' then
      redis.call('ZADD', KEYS[4], ARGV[7], ARGV[2])
      redis.call('ZADD', tenantQueued, ARGV[7], ARGV[2])
    else
      redis.call('ZREM', KEYS[4], ARGV[2])
      redis.call('ZREM', tenantQueued, ARGV[2])
    end
    if ARGV[6] ~= '' then
      redis.call('ZADD', KEYS[3], ARGV[6], ARGV[2])
      redis.call('ZADD', KEYS[5], ARGV[6], ARGV[2])
    else
      redis.call('ZREM', KEYS[3], ARGV[2])
      redis.call('ZREM', KEYS[5], ARGV[2])
    end
    redis.call('PUBLISH', ARGV[1], ARGV[2])
    return 1
  end
end
return 0
`);

/** KEYS: the record, the tenant's running set; ARGV: id, the owner. Frees the place while the record names that attempt. */
const RELEASE_RUNNING = new RedisScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[2] then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
`);

/**
 * KEYS: the record, the history, finished and queued sets, the running set,
 * then the tenant index (none when the record is gone); ARGV: id, cutoff (ms).
 * 1 deleted, 2 already gone (its history entry dropped), 0 not due.
 */
const DELETE_ENDED = new RedisScript(`
local ended = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not ended or tonumber(ended) > tonumber(ARGV[2]) then return 0 end
local gone = redis.call('EXISTS', KEYS[1]) == 0
if not gone and redis.call('HEXISTS', KEYS[1], 'expiredAt') == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
if KEYS[6] then redis.call('ZREM', KEYS[6], ARGV[1]) end
if gone then return 2 end
return 1
`);

/**
 * KEYS: the record, the finished set; ARGV: channel, id, cutoff (ms),
 * expiredAt, the statuses a job may expire in (JSON). 1 when the job ended before the cutoff
 * (and is now marked expired, or already was).
 */
const EXPIRE_SCRIPT = `
local ended = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not ended or tonumber(ended) > tonumber(ARGV[3]) then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
local terminal = false
for _, s in ipairs(cjson.decode(ARGV[5])) do if s == status then terminal = true end end
if not terminal then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 0
end
if redis.call('HEXISTS', KEYS[1], 'expiredAt') == 0 then
  redis.call('HSET', KEYS[1], 'expiredAt', ARGV[4])
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
`;
