import { metrics } from '../../shared/infra/metrics/registry.ts';
import type { JobRecord, JobRecords, JobResult } from '../../shared/jobs/job-record.ts';
import type { Logger } from '../../shared/infra/logger.ts';
import { ObjectNotFoundError } from '../../shared/storage/storage.ts';
import { jobInstruction } from '../../shared/jobs/instruction.ts';
import type { StageContext } from '../stage-context.ts';
import { renderCacheKey } from './cache-key.ts';
import type { RenderCacheIndex } from './cache-index.ts';
import { inputDigests } from './input-digests.ts';

/**
 * Revisions are left out: a revision edits a timeline inside its parent's
 * backend session, which the key cannot name; and a job that says
 * `options.cache: false` neither reads nor writes the cache.
 */
export function usesRenderCache(job: Pick<JobRecord, 'options' | 'parentId'>): boolean {
  return job.options.cache !== false && job.parentId === undefined;
}

/**
 * A succeeded job's result with every stored output key of `from` moved to
 * the same name under `to`, and the copies that makes. Keys are found
 * wherever the result holds them, so every rendition and poster comes along.
 */
function movedResult(result: JobResult, from: string, to: string): { result: JobResult; copies: Map<string, string> } {
  const copies = new Map<string, string>();
  const source = `outputs/${from}/`;
  const move = (value: unknown): unknown => {
    if (typeof value === 'string' && value.startsWith(source)) {
      const moved = `outputs/${to}/${value.slice(source.length)}`;
      copies.set(value, moved);
      return moved;
    }
    if (Array.isArray(value)) return value.map(move);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, move(v)]));
    return value;
  };
  return { result: move(result) as JobResult, copies };
}

/**
 * The render cache: a job whose work (input bytes, options, prompt, preset,
 * backend, RENDER_VERSION: cache-key.ts) a succeeded job of its tenant did
 * before gets a copy of that job's stored output instead of going to the
 * backend. The copy (storage `copy`: a hard link on disk, a server-side copy
 * in S3) belongs to the new job, so deleting or expiring either job never
 * touches the other's files; an entry whose job expired, was deleted or lost
 * its files is a miss.
 */
export class RenderCache {
  constructor(
    private readonly index: RenderCacheIndex,
    private readonly records: JobRecords,
    /** backendIdentity of the backend the workers render with */
    private readonly backend: string,
  ) {}

  /**
   * Looks the job's work up before it starts at the backend. A hit copies the
   * output, records the result (`cached: true`) and returns true: the job has
   * nothing left to do but succeed. A miss checkpoints the key, so the job's
   * output is remembered under it once it succeeds.
   */
  async serve(context: StageContext): Promise<boolean> {
    const { job, logger } = context;
    if (!usesRenderCache(job)) return false;
    const key = await this.keyOf(context);
    if (!key) return false;
    const sourceId = await this.index.get(job.tenant, key);
    const served = sourceId !== undefined && sourceId !== job.id && (await this.copyFrom(context, key, sourceId));
    if (!sourceId) metrics.renderCacheLookups.inc({ outcome: 'miss' });
    if (!served) {
      await context.checkpoint({ cacheKey: key });
      return false;
    }
    metrics.renderCacheLookups.inc({ outcome: 'hit' });
    logger.info({ cached_from: sourceId }, 'render cache hit: copied the stored output of identical work; nothing rendered');
    return true;
  }

  /** Points the job's key at the job once it succeeded, for the next identical work (the newest copy lives longest). */
  async remember(job: JobRecord, logger: Logger): Promise<void> {
    const key = job.checkpoint.cacheKey;
    if (!key || !usesRenderCache(job)) return;
    await this.index.put(job.tenant, key, job.id).catch((error: unknown) => logger.warn({ err: error }, 'could not write the render cache entry'));
  }

  /** The key of the job's work, or undefined when its inputs cannot be read now (the upload stage reports why). */
  private async keyOf(context: StageContext): Promise<string | undefined> {
    const { job, settings, signal } = context;
    try {
      const inputs = await inputDigests({ storage: context.storage, urlFetchAllowlist: settings.urlFetchAllowlist, maxDownloadBytes: settings.maxDownloadBytes, signal }, job.inputs);
      return renderCacheKey({ tenant: job.tenant, backend: this.backend, preset: job.preset, instruction: jobInstruction(job), options: job.options, inputs });
    } catch (error) {
      signal.throwIfAborted();
      context.logger.info({ err: error }, 'could not read the inputs for the render cache; rendering without it');
      return undefined;
    }
  }

  /** What `sourceId` stored for the key, while it still holds it: the tenant's, succeeded, not expired, with its video among its outputs. */
  private async storedOutput(job: JobRecord, key: string, sourceId: string) {
    const source = await this.records.get(sourceId);
    if (source?.tenant !== job.tenant || source.status !== 'succeeded' || source.expiredAt || source.checkpoint.cacheKey !== key || !source.result) return undefined;
    const { result, copies } = movedResult(source.result, source.id, job.id);
    return copies.has(source.result.videoKey) ? { source, result, copies } : undefined;
  }

  /** Copies the output of `sourceId` to the job; false (a stale entry, dropped) when that job or its files are gone. */
  private async copyFrom(context: StageContext, key: string, sourceId: string): Promise<boolean> {
    const { job, storage } = context;
    const stored = await this.storedOutput(job, key, sourceId);
    try {
      if (stored) {
        for (const [from, to] of stored.copies) await storage.copy(from, to);
        context.signal.throwIfAborted();
        await context.record.update({ stage: 'storing', result: { ...stored.result, cached: true, creditsUsed: 0 } });
        // the source's session and timeline, so the job can be revised like the one it copies
        const { sessionId, sessionToken, uploaded, draft, instruction } = stored.source.checkpoint;
        await context.checkpoint({ cacheKey: key, servedFrom: sourceId, sessionId, sessionToken, uploaded, draft, instruction });
        return true;
      }
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      await storage.remove(`outputs/${job.id}`);
    }
    context.logger.info({ cached_from: sourceId }, 'render cache entry is stale (its job or files are gone); rendering');
    metrics.renderCacheLookups.inc({ outcome: 'stale' });
    await this.index.forget(job.tenant, key, sourceId);
    return false;
  }
}
