import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import { checkKey, ObjectNotFoundError, type ByteRange, type Delivery, type Storage } from './storage.ts';

/** Storage in a folder of this machine (shared by API and workers when they run on one machine or share a volume). */
export class LocalStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private pathOf(key: string): string {
    return path.join(this.root, checkKey(key));
  }

  async write(key: string, source: Readable, checks: readonly Transform[] = []): Promise<{ sizeBytes: number }> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    const file = createWriteStream(partial);
    try {
      await pipeline([source, ...checks, file]);
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { sizeBytes: file.bytesWritten };
  }

  /** A rename when the file is on the storage's filesystem (no bytes copied), else a copy. */
  async moveIn(key: string, file: string): Promise<{ sizeBytes: number }> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const { size } = await stat(file);
    try {
      await rename(file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const partial = `${target}.partial`;
      try {
        await copyFile(file, partial);
        await rename(partial, target);
      } catch (copyError) {
        await rm(partial, { force: true });
        throw copyError;
      }
      await rm(file, { force: true });
    }
    return { sizeBytes: size };
  }

  /**
   * A hard link: no bytes copied, and removing either name leaves the other
   * whole (stored objects are never changed in place, only replaced by a
   * rename). A copy where the filesystem has no hard links.
   */
  async copy(from: string, to: string): Promise<void> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    await mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    await rm(partial, { force: true });
    try {
      await link(source, partial).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV' && error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'EMLINK') throw error;
        return copyFile(source, partial);
      });
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? new ObjectNotFoundError(from) : error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const handle = await open(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new ObjectNotFoundError(key) : error;
    });
    return handle.createReadStream(range);
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch {
      return undefined;
    }
  }

  /** The object's own file: no copy. */
  async withLocalFile<T>(key: string, use: (path: string) => Promise<T>): Promise<T> {
    if ((await this.size(key)) === undefined) throw new ObjectNotFoundError(key);
    return use(this.pathOf(key));
  }

  async delivery(key: string): Promise<Delivery | undefined> {
    return (await this.size(key)) === undefined ? undefined : { kind: 'file', path: this.pathOf(key) };
  }

  async remove(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  close(): void {}
}
