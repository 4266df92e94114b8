import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UrlForbiddenError } from '../../src/shared/net/address-policy.ts';
import { NetworkReader, NetworkReadError, type AddressPolicy } from '../../src/shared/net/network-reader.ts';

const BODY = Buffer.alloc(10_000, 3);
let server: Server;
let base: string;
let dir: string;
const backendPool = new Agent();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'i2v-reader-'));
  server = createServer((req, res) => {
    if (req.url === '/declared') return void res.writeHead(200, { 'content-length': String(BODY.length) }).end(BODY);
    // answers after the deadline of the test below, however fast the machine
    if (req.url === '/late') return void setTimeout(() => res.writeHead(200).end(BODY), 1000);
    res.writeHead(200);
    res.write(BODY.subarray(0, 5000));
    setTimeout(() => res.end(BODY.subarray(5000)), 10);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await backendPool.close();
  await rm(dir, { recursive: true, force: true });
});

async function read(policy: AddressPolicy, urlPath: string): Promise<Buffer> {
  const reader = new NetworkReader(policy);
  try {
    const reply = await reader.request(new URL(urlPath, base), { idleMs: 2000, totalMs: 5000 });
    return await reply.readAll({ maxBytes: 1_000_000 });
  } finally {
    await reader.close();
  }
}

describe('the network reader', () => {
  it('reaches a loopback server as the configured backend (the embedded engine), and refuses it for user URLs unless allow-listed', async () => {
    expect((await read({ kind: 'configured-backend', dispatcher: backendPool }, '/chunked')).equals(BODY)).toBe(true);
    await expect(read({ kind: 'public-only', allowlist: [], connectMs: 2000 }, '/chunked')).rejects.toBeInstanceOf(UrlForbiddenError);
    expect((await read({ kind: 'public-only', allowlist: ['127.0.0.1'], connectMs: 2000 }, '/chunked')).equals(BODY)).toBe(true);
  });

  it('caps a body, declared or streamed, to a file (leaving nothing behind) and to a buffer', async () => {
    const reader = new NetworkReader({ kind: 'configured-backend', dispatcher: backendPool });
    for (const [urlPath, declared] of [['/declared', BODY.length], ['/chunked', undefined]] as const) {
      for (const viaPartFile of [false, true]) {
        const reply = await reader.request(new URL(urlPath, base), { idleMs: 2000 });
        const error = await reply.saveTo(path.join(dir, 'out.bin'), { maxBytes: 4000, viaPartFile }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NetworkReadError);
        expect(error).toMatchObject({ kind: 'too_large', detail: { limit: 4000, declared } });
      }
    }
    expect(await readdir(dir)).toEqual([]);
    const failed = await (await reader.request(new URL('/chunked', base), { idleMs: 2000 })).readAll({ maxBytes: 4000 }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ kind: 'too_large' });
    const kept = await (await reader.request(new URL('/chunked', base), { idleMs: 2000 })).readAll({ maxBytes: 4000, overflow: 'truncate' });
    expect(kept.equals(BODY.subarray(0, 4000))).toBe(true);
  });

  it('saves a whole body, through a part file renamed at the end', async () => {
    const reader = new NetworkReader({ kind: 'configured-backend', dispatcher: backendPool });
    const reply = await reader.request(new URL('/chunked', base), { idleMs: 2000 });
    expect(await reply.saveTo(path.join(dir, 'whole.bin'), { maxBytes: BODY.length, viaPartFile: true })).toBe(BODY.length);
    expect(await readdir(dir)).toEqual(['whole.bin']);
    await rm(path.join(dir, 'whole.bin'));
  });

  it("tells the caller's abort from its deadline", async () => {
    const reader = new NetworkReader({ kind: 'configured-backend', dispatcher: backendPool });
    const aborted = AbortSignal.abort();
    await expect(reader.request(new URL('/chunked', base), { idleMs: 2000, signal: aborted })).rejects.toMatchObject({ kind: 'aborted' });
    await expect(reader.request(new URL('/late', base), { idleMs: 2000, totalMs: 50 })).rejects.toMatchObject({ kind: 'deadline' });
  });
});
