import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendClient } from '../../src/shared/backend/client.ts';
import { fetchToFile, postGuarded } from '../../src/shared/media/fetch-guard.ts';
import { startClosingServer, startPythonFileServer, type Peer } from '../helpers/peers.ts';

// undici 7 on Node 20 threw `assert(!this.paused)` from a socket handler when
// the peer sent FIN while the reader applied backpressure: the whole process
// died. Each case reads a large body slowly from such a peer; before the fix
// the test process itself crashed.

const BODY_BYTES = 8 * 1024 * 1024;
const skill = { source: 'diffusion-video', version: '2.0.0', platform: 'unknown' } as const;

let dir: string;
let closing: Peer;
let python: Peer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'i2v-peer-'));
  await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(BODY_BYTES, 7));
  closing = await startClosingServer(dir);
  python = await startPythonFileServer(dir);
});

afterAll(async () => {
  await closing?.close();
  await python?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A named pipe whose reader takes 16 KiB at a time with a pause between: the file sink applies backpressure. */
async function slowPipe(name: string): Promise<{ path: string; drained: Promise<number> }> {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', [fifo]);
  const drained = (async () => {
    let bytes = 0;
    for await (const chunk of createReadStream(fifo, { highWaterMark: 16 * 1024 })) {
      bytes += (chunk as Buffer).length;
      await sleep(1);
    }
    return bytes;
  })();
  return { path: fifo, drained };
}

describe('a peer that ends the socket right after a large body, read slowly', () => {
  it('undici itself: five slow reads of the whole body, the process survives', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await request(`${closing.url}/big.bin`);
      let bytes = 0;
      for await (const chunk of reply.body) {
        bytes += (chunk as Buffer).length;
        await sleep(2);
      }
      expect(bytes).toBe(BODY_BYTES);
    }
  });

  it('user URLs (fetchToFile) from the closing server and from python3 -m http.server', async () => {
    for (const [name, peer] of [['closing', closing], ['python', python]] as const) {
      const sink = await slowPipe(`user-${name}.fifo`);
      const [fetched, drained] = await Promise.all([
        fetchToFile(`${peer.url}/big.bin`, sink.path, { allowlist: ['127.0.0.1'], maxBytes: 2 * BODY_BYTES }),
        sink.drained,
      ]);
      expect(fetched.bytes).toBe(BODY_BYTES);
      expect(drained).toBe(BODY_BYTES);
    }
  });

  it('the render download of the backend client', async () => {
    const client = new BackendClient({ baseUrl: closing.url, skill });
    try {
      // the sink writes `<dest>.part` and renames it when complete
      const sink = await slowPipe('render.mp4.part');
      const [downloaded, drained] = await Promise.all([
        client.downloadToFile(`${closing.url}/big.bin`, path.join(dir, 'render.mp4'), { maxBytes: 2 * BODY_BYTES }),
        sink.drained,
      ]);
      expect(downloaded.bytes).toBe(BODY_BYTES);
      expect(drained).toBe(BODY_BYTES);
    } finally {
      await client.close();
    }
  });

  it('a webhook receiver that answers with a large body and closes', async () => {
    const reply = await postGuarded(`${closing.url}/big.bin`, '{}', { 'content-type': 'application/json' }, { allowlist: ['127.0.0.1'] });
    expect(reply.statusCode).toBe(200);
  });
});
