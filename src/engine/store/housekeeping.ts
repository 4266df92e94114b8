import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../shared/infra/logger.ts';
import { EngineError } from '../protocol/envelope.ts';
import type { EngineStore, FreedKind } from './engine-store.ts';

export interface DiskUsage {
  usedBytes: number;
  /** ENGINE_MAX_DISK_MB */
  maxBytes: number;
  files: number;
}

/** A file on disk that no session or render of the backend knows. */
interface Leftover {
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** Something that can be freed, with the time it was last used. */
interface Holder {
  usedAt: number;
  /** false when it was in use (or used again) after all, or another engine freed it first */
  free(): Promise<boolean>;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Frees what the backend holds on the shared ENGINE_DIR. Sessions (with
 * their uploads) and finished renders (with their output) expire `ttlMs`
 * after their last use; so do files no record knows (a killed engine's, or
 * records lost with Redis). Before an upload (and after a render), the least
 * recently used go until the disk has room under `maxBytes`; a session with a
 * render still running, and that render, are never freed. Every engine
 * sweeps; each deletion is decided by one script in Redis, so exactly one
 * engine deletes a record and its files, and never one a render still needs.
 * An upload that finds no room even so is refused (503, retried by the worker).
 */
export class EngineHousekeeping {
  private leftovers: Leftover[] = [];
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly store: Pick<EngineStore, 'sessions' | 'renders' | 'disk' | 'freed'>,
    private readonly dirs: { dataDir: string; rendersDir: string; uploadsDir(sessionId: string): string },
    private readonly limits: { ttlMs: number; maxBytes: number },
    private readonly logger: Logger,
  ) {}

  /** Finds the files under uploads/ and renders/ that no record knows, and sweeps now and then from here on. */
  async start(): Promise<void> {
    this.leftovers = await this.findLeftovers();
    if (this.leftovers.length > 0) this.logger.info({ files: this.leftovers.length, bytes: this.leftovers.reduce((n, f) => n + f.bytes, 0) }, 'files no session or render knows found; they expire like any other');
    await this.sweep();
    const everyMs = Math.min(60_000, Math.max(100, this.limits.ttlMs / 4));
    this.timer = setInterval(() => void this.sweep().catch((error: Error) => this.logger.warn({ err: error }, 'sweep failed')), everyMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async usage(): Promise<DiskUsage> {
    const held = await this.store.disk();
    return {
      usedBytes: held.bytes + this.leftovers.reduce((n, file) => n + file.bytes, 0),
      maxBytes: this.limits.maxBytes,
      files: held.files + this.leftovers.length,
    };
  }

  /**
   * Frees what expired, then the least recently used until the disk is under
   * its bound with `room.bytes` to spare, never `room.for` (the session
   * being uploaded to). One sweep at a time in this process.
   */
  async sweep(room: { bytes: number; for?: string } = { bytes: 0 }): Promise<void> {
    while (this.sweeping) await this.sweeping;
    this.sweeping = this.sweepOnce(room.bytes, room.for).finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Before an upload of about `incomingBytes` to a session: 503 when the disk has no room for it even after freeing what may be freed. */
  async makeRoom(sessionId: string, incomingBytes: number): Promise<void> {
    await this.sweep({ bytes: incomingBytes, for: sessionId });
    const { usedBytes, maxBytes } = await this.usage();
    if (usedBytes + incomingBytes > maxBytes) {
      throw new EngineError(503, `the engine's disk is full: running renders hold ${usedBytes} of its ${maxBytes} bytes (ENGINE_MAX_DISK_MB), no room for ${incomingBytes} more`);
    }
  }

  /** Every finished render is dropped now, with its output (a fault: a backend that lost them). */
  async forgetRenders(): Promise<void> {
    for (const { id } of await this.store.renders.byUse()) await this.freeRender(id, Number.MAX_SAFE_INTEGER, false);
  }

  private async sweepOnce(spare: number, uploadingTo?: string): Promise<void> {
    const freed: Record<FreedKind, number> = { sessions: 0, renders: 0, leftovers: 0 };
    const count = (kind: FreedKind) => (done: boolean) => {
      if (done) freed[kind]++;
      return done;
    };
    const cutoff = Date.now() - this.limits.ttlMs;
    for (const { id } of await this.store.renders.byUse(cutoff)) count('renders')(await this.freeRender(id, cutoff, false));
    for (const { id } of await this.store.sessions.byUse(cutoff)) count('sessions')(await this.freeSession(id, cutoff, false));
    for (const leftover of this.leftovers.filter((file) => file.mtimeMs <= cutoff)) count('leftovers')(await this.freeLeftover(leftover));

    const room = this.limits.maxBytes - spare;
    if ((await this.usage()).usedBytes > room) {
      // freeing what takes no disk (an empty session, a failed render) would not make room
      const holders: Holder[] = [
        ...this.leftovers.map((leftover) => ({ usedAt: leftover.mtimeMs, free: async () => count('leftovers')(await this.freeLeftover(leftover)) })),
        ...(await this.store.renders.byUse()).map(({ id, usedAt }) => ({ usedAt, free: async () => count('renders')(await this.freeRender(id, usedAt, true)) })),
        ...(await this.store.sessions.byUse())
          .filter(({ id }) => id !== uploadingTo)
          .map(({ id, usedAt }) => ({ usedAt, free: async () => count('sessions')(await this.freeSession(id, usedAt, true)) })),
      ];
      for (const holder of holders.sort((a, b) => a.usedAt - b.usedAt)) {
        if ((await this.usage()).usedBytes <= room) break;
        await holder.free();
      }
    }
    for (const kind of ['sessions', 'renders', 'leftovers'] as const) if (freed[kind] > 0) await this.store.freed.add(kind, freed[kind]);
    if (freed.sessions + freed.renders + freed.leftovers > 0) {
      this.logger.info({ freed, used_bytes: (await this.usage()).usedBytes, max_bytes: this.limits.maxBytes }, 'freed expired and least recently used sessions and renders');
    }
  }

  /** Only the engine whose script deleted the session deletes its files; a session is kept while a render of it runs (the render reads its files). */
  private async freeSession(sessionId: string, usedBefore: number, holdingOnly: boolean): Promise<boolean> {
    if (!(await this.store.sessions.free(sessionId, usedBefore, holdingOnly))) return false;
    await rm(this.dirs.uploadsDir(sessionId), { recursive: true, force: true });
    return true;
  }

  private async freeRender(renderId: string, usedBefore: number, holdingOnly: boolean): Promise<boolean> {
    const freed = await this.store.renders.free(renderId, usedBefore, holdingOnly);
    if (!freed) return false;
    await rm(path.join(this.dirs.rendersDir, freed.fileName), { force: true });
    return true;
  }

  private async freeLeftover(leftover: Leftover): Promise<boolean> {
    this.leftovers = this.leftovers.filter((other) => other !== leftover);
    await rm(leftover.path, { force: true });
    // an upload folder left behind goes with its last file
    if (path.dirname(leftover.path) !== this.dirs.rendersDir) await rmdir(path.dirname(leftover.path)).catch(() => undefined);
    return true;
  }

  /** Outputs no render names and upload folders of sessions that do not exist. */
  private async findLeftovers(): Promise<Leftover[]> {
    const outputs = await listFiles(this.dirs.rendersDir);
    const unknownOutputs = new Set(await this.store.renders.unknownOutputs(outputs.map((file) => path.basename(file))));
    const uploadsRoot = path.join(this.dirs.dataDir, 'uploads');
    const uploads = await listFiles(uploadsRoot);
    const folders = [...new Set(uploads.map((file) => path.relative(uploadsRoot, path.dirname(file))))];
    const unknownSessions = new Set(await this.store.sessions.unknown(folders));
    const left = [
      ...outputs.filter((file) => unknownOutputs.has(path.basename(file))),
      ...uploads.filter((file) => unknownSessions.has(path.relative(uploadsRoot, path.dirname(file)))),
    ];
    const found = await Promise.all(left.map(async (file) => stat(file).then((info) => ({ path: file, bytes: info.size, mtimeMs: info.mtimeMs }), () => undefined)));
    return found.filter((leftover): leftover is Leftover => Boolean(leftover));
  }
}
