import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToFile } from '../../src/shared/media/fetch-guard.ts';
import { checkUrl, UrlForbiddenError } from '../../src/shared/net/address-policy.ts';

describe('the guarded fetcher for user-supplied URLs', () => {
  let server: Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-fetch-'));
    server = createServer((req, res) => {
      if (req.url === '/ok') return res.end('hello');
      if (req.url === '/big') return res.end(Buffer.alloc(5000));
      if (req.url?.startsWith('/hop')) {
        const n = Number(req.url.slice(4));
        return res.writeHead(302, { location: n > 0 ? `/hop${n - 1}` : '/ok' }).end();
      }
      if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://017700000001/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://10.1.2.3/',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00:ec2::254]/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
  ])('refuses %s', (url) => {
    expect(() => checkUrl(url, [])).toThrow(UrlForbiddenError);
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/a.jpg', 'http://user:pw@example.com/', 'not a url'])('refuses %s', (url) => {
    expect(() => checkUrl(url, [])).toThrow(UrlForbiddenError);
  });

  it('fetches an allow-listed private host and follows up to three redirects', async () => {
    const target = path.join(dir, 'a');
    const fetched = await fetchToFile(`${base}/hop2`, target, { allowlist: ['127.0.0.1'], maxBytes: 100 });
    expect(fetched.bytes).toBe(5);
    expect(await readFile(target, 'utf8')).toBe('hello');
  });

  it('refuses a loopback host that is not allow-listed, and a fourth redirect', async () => {
    await expect(fetchToFile(`${base}/ok`, path.join(dir, 'b'), { allowlist: [], maxBytes: 100 })).rejects.toMatchObject({ code: 'url_forbidden' });
    await expect(fetchToFile(`${base}/hop3`, path.join(dir, 'c'), { allowlist: ['127.0.0.1'], maxBytes: 100 })).rejects.toMatchObject({
      code: 'url_forbidden',
    });
  });

  it('checks every redirect hop again', async () => {
    await expect(fetchToFile(`${base}/to-metadata`, path.join(dir, 'd'), { allowlist: ['127.0.0.1'], maxBytes: 100 })).rejects.toMatchObject({
      code: 'url_forbidden',
    });
  });

  it('stops at the size cap and keeps no partial file', async () => {
    const target = path.join(dir, 'e');
    await expect(fetchToFile(`${base}/big`, target, { allowlist: ['127.0.0.1'], maxBytes: 1000 })).rejects.toMatchObject({ code: 'media_too_large' });
    await expect(readFile(target)).rejects.toThrow();
  });
});
