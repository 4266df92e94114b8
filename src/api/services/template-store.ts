import { ProblemError } from '../../shared/errors/problem-error.ts';
import { newId } from '../../shared/infra/ids.ts';
import type { Redis } from '../../shared/infra/redis.ts';
import { RedisScript } from '../../shared/infra/redis-script.ts';

/** Versions one template may have; earlier ones stay readable (jobs may pin one). */
export const MAX_TEMPLATE_VERSIONS = 100;

/** A template at one of its versions. */
export interface TemplateRecord {
  id: string;
  name: string | null;
  /** the version this record holds */
  version: number;
  latestVersion: number;
  body: Record<string, unknown>;
  createdAt: string;
  /** when this version was saved */
  versionCreatedAt: string;
}

interface StoredVersion {
  body: Record<string, unknown>;
  createdAt: string;
}

const FIELDS = ['id', 'name', 'createdAt', 'latest', 'current'] as const;

/**
 * A tenant's templates, in Redis under the tenant's own keys (one hash per
 * template: its fields, each version `v:<n>`, and the latest again as
 * `current` for lists), so one tenant's ids name nothing of another's. An
 * index of ids (time-ordered) pages the list newest first.
 */
export class TemplateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxPerTenant: number,
  ) {}

  private index(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:templates`;
  }

  private key(tenant: string, id: string): string {
    return `${this.prefix}:tenant:${tenant}:template:${id}`;
  }

  /** A new template at version 1; 409 template_limit when the tenant has TEMPLATES_MAX_PER_TENANT already. */
  async create(tenant: string, name: string | undefined, body: Record<string, unknown>): Promise<TemplateRecord> {
    const id = newId('tpl');
    const now = new Date().toISOString();
    const version = JSON.stringify({ body, createdAt: now } satisfies StoredVersion);
    const created = await CREATE.run(this.redis, [this.index(tenant), this.key(tenant, id)], [id, this.maxPerTenant, name ?? '', now, version]);
    if (created !== 1) {
      throw new ProblemError('template_limit', 'Too many templates', `This tenant already has ${this.maxPerTenant} templates (TEMPLATES_MAX_PER_TENANT); delete one first.`);
    }
    return { id, name: name ?? null, version: 1, latestVersion: 1, body, createdAt: now, versionCreatedAt: now };
  }

  /** A new version (and name, when given); undefined when there is no such template; 409 template_limit past MAX_TEMPLATE_VERSIONS. */
  async addVersion(tenant: string, id: string, name: string | undefined, body: Record<string, unknown>): Promise<TemplateRecord | undefined> {
    const now = new Date().toISOString();
    const version = JSON.stringify({ body, createdAt: now } satisfies StoredVersion);
    const added = Number(await ADD_VERSION.run(this.redis, [this.key(tenant, id)], [MAX_TEMPLATE_VERSIONS, name ?? '', name === undefined ? 0 : 1, version]));
    if (added === 0) return undefined;
    if (added < 0) {
      throw new ProblemError('template_limit', 'Too many versions', `Template ${id} already has ${MAX_TEMPLATE_VERSIONS} versions; create a new template instead.`);
    }
    return this.get(tenant, id, added);
  }

  /** The template at `version` (default its latest), or undefined when it, or that version, does not exist for this tenant. */
  async get(tenant: string, id: string, version?: number): Promise<TemplateRecord | undefined> {
    const key = this.key(tenant, id);
    const [storedId, name, createdAt, latest, current] = await this.redis.hmget(key, ...FIELDS);
    if (!storedId || !createdAt || !latest || !current) return undefined;
    const raw = version === undefined || version === Number(latest) ? current : await this.redis.hget(key, `v:${version}`);
    return raw ? record([storedId, name ?? null, createdAt, latest], version ?? Number(latest), raw) : undefined;
  }

  /** The tenant's templates at their latest versions, newest first, after `cursor` (an id); `more` when a further page exists. */
  async list(tenant: string, limit: number, cursor?: string): Promise<{ templates: TemplateRecord[]; more: boolean }> {
    const ids = await this.redis.zrevrangebylex(this.index(tenant), cursor ? `(${cursor}` : '+', '-', 'LIMIT', 0, limit + 1);
    const page = ids.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const id of page) pipeline.hmget(this.key(tenant, id), ...FIELDS);
    const rows = ((await pipeline.exec()) ?? []).map(([, fields]) => fields as (string | null)[]);
    const templates = rows.flatMap(([id, name, createdAt, latest, current]) =>
      id && createdAt && latest && current ? [record([id, name ?? null, createdAt, latest], Number(latest), current)] : [],
    );
    return { templates, more: ids.length > limit };
  }

  /** Deletes a template with every version; false when there was none. */
  async delete(tenant: string, id: string): Promise<boolean> {
    const [[, removed]] = (await this.redis.multi().del(this.key(tenant, id)).zrem(this.index(tenant), id).exec()) as [[unknown, number]];
    return removed === 1;
  }
}

function record([id, name, createdAt, latest]: (string | null)[], version: number, raw: string): TemplateRecord {
  const stored = JSON.parse(raw) as StoredVersion;
  return { id: id!, name: name || null, version, latestVersion: Number(latest), body: stored.body, createdAt: createdAt!, versionCreatedAt: stored.createdAt };
}

/** KEYS: the tenant's index, the template; ARGV: id, the cap, name, createdAt, version 1. 0 when the tenant is at the cap. */
const CREATE = new RedisScript(`
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'name', ARGV[3], 'createdAt', ARGV[4], 'latest', 1, 'v:1', ARGV[5], 'current', ARGV[5])
return 1
`);

/** KEYS: the template; ARGV: the version cap, name, whether to set it, the version. Its number; 0 when there is no template, -1 at the cap. */
const ADD_VERSION = new RedisScript(`
local latest = tonumber(redis.call('HGET', KEYS[1], 'latest'))
if not latest then return 0 end
if latest >= tonumber(ARGV[1]) then return -1 end
local version = latest + 1
redis.call('HSET', KEYS[1], 'latest', version, 'v:' .. version, ARGV[4], 'current', ARGV[4])
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'name', ARGV[2]) end
return version
`);
