import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTestImage } from './media.ts';

export interface PhotoServer {
  /** a URL the worker may fetch (loopback is on the tests' URL_FETCH_ALLOWLIST); `n` only makes the URLs differ */
  photo(n: number | string): string;
  close(): void;
}

/** A loopback server answering every /p/… path with one small JPEG made in `dir`. */
export async function startPhotoServer(dir: string): Promise<PhotoServer> {
  const photo = await readFile(await makeTestImage(path.join(dir, 'served.jpg'), 320, 240));
  const server = createServer((req, res) => (req.url?.startsWith('/p/') ? res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { photo: (n) => `${base}/p/${n}.jpg`, close: () => void server.close() };
}
