import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/shared/storage.ts';

describe('local storage', () => {
  let dir: string;
  let storage: LocalStorage;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-storage-'));
    storage = new LocalStorage(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('writes every byte of a stream that was already flowing through its checks', async () => {
    const source = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
    const upper = new Transform({ transform: (chunk: Buffer, _e, done) => done(null, Buffer.from(chunk.toString().toUpperCase())) });
    const { sizeBytes } = await storage.write('a/b.txt', source, [upper]);
    expect(sizeBytes).toBe(11);
    expect(await readFile(storage.localPath('a/b.txt'), 'utf8')).toBe('HELLO WORLD');
  });

  it('keeps nothing when a check fails', async () => {
    const refuse = new Transform({ transform: (_chunk, _e, done) => done(new Error('refused')) });
    await expect(storage.write('a/c.txt', Readable.from([Buffer.from('x')]), [refuse])).rejects.toThrow('refused');
    expect(await readdir(storage.localPath('a'))).toEqual(['b.txt']);
  });

  it('never maps a key outside its root', () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '']) expect(() => storage.localPath(key)).toThrow();
  });
});
