import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../shared/infra/logger.ts';
import { EngineError } from '../protocol/envelope.ts';
import type { EngineStore } from './engine-store.ts';
import type { RenderJob } from './renders.ts';
import type { Session } from './sessions.ts';

export interface DiskUsage {
  usedBytes: number;
  /** ENGINE_MAX_DISK_MB */
  maxBytes: number;
  files: number;
}

/** What the engine freed since it started: by expiry (ENGINE_TTL_S) or to stay under ENGINE_MAX_DISK_MB. */
export interface Freed {
  sessions: number;
  renders: number;
  /** files a previous engine process left behind */
  leftovers: number;
}

/** A file on disk that no session or render of this process knows. */
interface Leftover {
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** Something that can be freed, with the time it was last used. */
interface Holder {
  usedAt(): number;
  bytes: number;
  /** false when it turned out to be in use after all */
  free(): Promise<boolean>;
}

const finished = (render: RenderJob) => render.status === 'completed' || render.status === 'failed';

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Frees what the engine holds. Sessions (with their uploads) and finished
 * renders (with their output) expire `ttlMs` after their last use; so do
 * files a previous engine process left on disk (its state was in memory).
 * Before an upload (and after a render), the least recently used of them go
 * until the disk has room under `maxBytes`; a session with a render still
 * running, and that render, are never freed. An upload that finds no room
 * even so is refused (503, retried by the worker).
 */
export class EngineHousekeeping {
  private leftovers: Leftover[] = [];
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  readonly freed: Freed = { sessions: 0, renders: 0, leftovers: 0 };

  constructor(
    private readonly stores: Pick<EngineStore, 'sessions' | 'renders'>,
    private readonly dirs: { dataDir: string; rendersDir: string; uploadsDir(sessionId: string): string },
    private readonly limits: { ttlMs: number; maxBytes: number },
    private readonly logger: Logger,
  ) {}

  /** Counts what a previous process left under uploads/ and renders/, and sweeps now and then from here on. */
  async start(): Promise<void> {
    const files = [...(await listFiles(path.join(this.dirs.dataDir, 'uploads'))), ...(await listFiles(this.dirs.rendersDir))];
    const found = await Promise.all(files.map(async (file) => stat(file).then((info) => ({ path: file, bytes: info.size, mtimeMs: info.mtimeMs }), () => undefined)));
    this.leftovers = found.filter((leftover): leftover is Leftover => Boolean(leftover));
    if (this.leftovers.length > 0) this.logger.info({ files: this.leftovers.length, bytes: this.leftovers.reduce((n, f) => n + f.bytes, 0) }, 'files of a previous engine process found; they expire like any other');
    await this.sweep();
    const everyMs = Math.min(60_000, Math.max(100, this.limits.ttlMs / 4));
    this.timer = setInterval(() => void this.sweep(), everyMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  usage(): DiskUsage {
    const sessionFiles = this.stores.sessions.all().flatMap((session) => session.files);
    const outputs = [...this.stores.renders.all()].filter((render) => render.outputPath);
    const usedBytes =
      sessionFiles.reduce((n, file) => n + file.sizeBytes, 0) +
      outputs.reduce((n, render) => n + (render.sizeBytes ?? 0), 0) +
      this.leftovers.reduce((n, file) => n + file.bytes, 0);
    return { usedBytes, maxBytes: this.limits.maxBytes, files: sessionFiles.length + outputs.length + this.leftovers.length };
  }

  /**
   * Frees what expired, then the least recently used until the disk is under
   * its bound with `room.bytes` to spare, never `room.for` (the session
   * being uploaded to). One sweep at a time.
   */
  async sweep(room: { bytes: number; for?: Session } = { bytes: 0 }): Promise<void> {
    while (this.sweeping) await this.sweeping;
    this.sweeping = this.sweepOnce(room.bytes, room.for).finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Before an upload of about `incomingBytes` to `session`: 503 when the disk has no room for it even after freeing what may be freed. */
  async makeRoom(session: Session, incomingBytes: number): Promise<void> {
    await this.sweep({ bytes: incomingBytes, for: session });
    const { usedBytes, maxBytes } = this.usage();
    if (usedBytes + incomingBytes > maxBytes) {
      throw new EngineError(503, `the engine's disk is full: running renders hold ${usedBytes} of its ${maxBytes} bytes (ENGINE_MAX_DISK_MB), no room for ${incomingBytes} more`);
    }
  }

  /** Every finished render is dropped now, with its output (a fault: a backend that lost them). */
  async forgetRenders(): Promise<void> {
    for (const render of [...this.stores.renders.all()]) await this.freeRender(render);
  }

  private async sweepOnce(spare: number, uploadingTo?: Session): Promise<void> {
    const before = { ...this.freed };
    const cutoff = Date.now() - this.limits.ttlMs;
    const kept: Holder[] = [];
    for (const holder of this.holders(uploadingTo)) {
      if (holder.usedAt() > cutoff || !(await holder.free())) kept.push(holder);
    }
    const room = this.limits.maxBytes - spare;
    let { usedBytes } = this.usage();
    // freeing what takes no disk (an empty session, a failed render) would not make room
    for (const holder of kept.filter((h) => h.bytes > 0).sort((a, b) => a.usedAt() - b.usedAt())) {
      if (usedBytes <= room) break;
      if (await holder.free()) usedBytes -= holder.bytes;
    }
    const freed = { sessions: this.freed.sessions - before.sessions, renders: this.freed.renders - before.renders, leftovers: this.freed.leftovers - before.leftovers };
    if (freed.sessions + freed.renders + freed.leftovers > 0) {
      this.logger.info({ freed, used_bytes: this.usage().usedBytes, max_bytes: this.limits.maxBytes }, 'freed expired and least recently used sessions and renders');
    }
  }

  /** Everything that may be freed now but `uploadingTo`; what a running render needs is left alone when it comes to it. */
  private holders(uploadingTo?: Session): Holder[] {
    return [
      ...this.leftovers.map((leftover) => ({ usedAt: () => leftover.mtimeMs, bytes: leftover.bytes, free: () => this.freeLeftover(leftover) })),
      ...[...this.stores.renders.all()].map((render) => ({ usedAt: () => render.lastUsedAt, bytes: render.sizeBytes ?? 0, free: () => this.freeRender(render) })),
      ...this.stores.sessions
        .all()
        .filter((session) => session !== uploadingTo)
        .map((session) => ({ usedAt: () => session.lastUsedAt, bytes: session.files.reduce((n, file) => n + file.sizeBytes, 0), free: () => this.freeSession(session) })),
    ];
  }

  /** A session is kept while a render of it runs (the render reads its files). */
  private async freeSession(session: Session): Promise<boolean> {
    if ([...this.stores.renders.all()].some((render) => render.sessionId === session.id && !finished(render))) return false;
    this.stores.sessions.delete(session.id);
    await rm(this.dirs.uploadsDir(session.id), { recursive: true, force: true });
    this.freed.sessions++;
    return true;
  }

  private async freeRender(render: RenderJob): Promise<boolean> {
    if (!finished(render)) return false;
    this.stores.renders.delete(render.id);
    if (render.outputPath) await rm(render.outputPath, { force: true });
    this.freed.renders++;
    return true;
  }

  private async freeLeftover(leftover: Leftover): Promise<boolean> {
    this.leftovers = this.leftovers.filter((other) => other !== leftover);
    await rm(leftover.path, { force: true });
    // an upload folder of a previous process goes with its last file
    if (path.dirname(leftover.path) !== this.dirs.rendersDir) await rmdir(path.dirname(leftover.path)).catch(() => undefined);
    this.freed.leftovers++;
    return true;
  }
}
