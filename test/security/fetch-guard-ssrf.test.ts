import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToFile, postGuarded } from '../../src/shared/media/fetch-guard.ts';
import { checkCallbackUrl, checkUrl, UrlForbiddenError, type HostLookup } from '../../src/shared/net/address-policy.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

/**
 * SSRF: every user-supplied URL (images, audio, webhooks) goes through one
 * guarded fetcher. The target is a real HTTP server on 127.0.0.1: refused
 * unless URL_FETCH_ALLOWLIST names it.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; base: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, base: `http://127.0.0.1:${port}`, port };
}

/** A resolver that answers from a table and counts its calls: stands in for DNS (including a rebinding one). */
function fakeDns(table: Record<string, string[] | ((call: number) => string[])>): HostLookup & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const lookup = async (hostname: string) => {
    calls[hostname] = (calls[hostname] ?? 0) + 1;
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry(calls[hostname]!) : entry;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

describe('SSRF: the guarded fetcher', () => {
  let dir: string;
  let target: Awaited<ReturnType<typeof listen>>;
  const seen: { url: string; host: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'i2v-ssrf-'));
    target = await listen((req, res) => {
      seen.push({ url: req.url ?? '', host: req.headers.host ?? '' });
      const url = req.url ?? '';
      if (url === '/ok') return void res.end('hello');
      if (url.startsWith('/hop')) {
        const n = Number(url.slice(4));
        return void res.writeHead(302, { location: n > 0 ? `/hop${n - 1}` : '/ok' }).end();
      }
      if (url === '/to-metadata') return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url === '/to-metadata-v6') return void res.writeHead(307, { location: 'http://[fd00:ec2::254]/latest/' }).end();
      if (url === '/to-file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      if (url === '/to-decimal') return void res.writeHead(302, { location: `http://2130706433:${target.port}/ok` }).end();
      if (url === '/to-name') return void res.writeHead(302, { location: `http://internal.test:${target.port}/ok` }).end();
      if (url === '/declared-big') return void res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
      if (url === '/chunked-big') {
        res.writeHead(200);
        let sent = 0;
        const tick = setInterval(() => {
          if (res.destroyed || sent > 20) return void (clearInterval(tick), res.end());
          sent++;
          res.write(Buffer.alloc(1000));
        }, 5);
        return;
      }
      if (url === '/no-headers') return; // never answers
      if (url === '/drip') {
        res.writeHead(200);
        const tick = setInterval(() => (res.destroyed ? clearInterval(tick) : res.write('x')), 100);
        return;
      }
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    target.server.closeAllConnections();
    target.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const file = (name: string) => path.join(dir, name);
  const requestsTo = (p: string) => seen.filter((s) => s.url === p).length;

  describe('addresses that are not public are refused, however they are spelled', () => {
    it.each([
      ['loopback', 'http://127.0.0.1/'],
      ['loopback, decimal', 'http://2130706433/'],
      ['loopback, hex', 'http://0x7f.1/'],
      ['loopback, hex whole', 'http://0x7f000001/'],
      ['loopback, octal', 'http://017700000001/'],
      ['loopback, octal dotted', 'http://0177.0.0.01/'],
      ['loopback, short', 'http://127.1/'],
      ['loopback, trailing dot', 'http://127.0.0.1./'],
      ['loopback, IPv6', 'http://[::1]/'],
      ['loopback, IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/'],
      ['loopback, IPv4-mapped IPv6 in hex', 'http://[::ffff:7f00:1]/'],
      ['loopback, IPv4-compatible IPv6', 'http://[::127.0.0.1]/'],
      ['unspecified', 'http://0.0.0.0/'],
      ['unspecified, zero', 'http://0/'],
      ['unspecified, IPv6', 'http://[::]/'],
      ['private 10/8', 'http://10.1.2.3/'],
      ['private 172.16/12', 'http://172.20.0.1/'],
      ['private 192.168/16', 'http://192.168.1.1/'],
      ['private, IPv4-mapped', 'http://[::ffff:10.0.0.1]/'],
      ['CGNAT', 'http://100.64.0.1/'],
      ['link-local', 'http://169.254.10.10/'],
      ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
      ['cloud metadata, decimal', 'http://2852039166/latest/'],
      ['cloud metadata, IPv6 (AWS)', 'http://[fd00:ec2::254]/latest/'],
      ['unique local IPv6', 'http://[fc00::1]/'],
      ['link-local IPv6', 'http://[fe80::1]/'],
      ['multicast', 'http://224.0.0.1/'],
      ['multicast IPv6', 'http://[ff02::1]/'],
      ['broadcast', 'http://255.255.255.255/'],
      ['reserved (class E)', 'http://240.0.0.1/'],
      ['documentation range', 'http://192.0.2.1/'],
      ['benchmarking range', 'http://198.18.0.1/'],
      ['NAT64 of loopback', 'http://[64:ff9b::7f00:1]/'],
      ['6to4 of loopback', 'http://[2002:7f00:1::1]/'],
      ['Teredo', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/'],
      ['IPv6 outside global unicast', 'http://[4000::1]/'],
    ])('%s: %s', async (_name, url) => {
      expect(() => checkUrl(url, [])).toThrow(UrlForbiddenError);
      await expect(fetchToFile(url, file('refused'), { allowlist: [], maxBytes: 100, timeoutMs: 500 })).rejects.toMatchObject({ code: 'url_forbidden' });
    });

    it('says why: the address and its kind', () => {
      expect(() => checkUrl('http://0x7f.1/', [])).toThrow(/127\.0\.0\.1, a loopback address/);
      expect(() => checkUrl('http://169.254.169.254/', [])).toThrow(/linkLocal address .*URL_FETCH_ALLOWLIST/);
    });

    it.each(['file:///etc/passwd', 'ftp://example.com/a.jpg', 'gopher://example.com:70/', 'data:image/png;base64,AAAA', 'javascript:alert(1)', 'http://user:pw@example.com/', 'not a url'])(
      'only http and https, without credentials: %s',
      (url) => {
        expect(() => checkUrl(url, [])).toThrow(UrlForbiddenError);
      },
    );

    it('lets public addresses through', () => {
      expect(checkUrl('https://93.184.216.34/a.jpg', []).hostname).toBe('93.184.216.34');
      expect(checkUrl('https://[2606:4700::1111]/a.jpg', []).hostname).toBe('[2606:4700::1111]');
    });
  });

  describe('a real server on 127.0.0.1', () => {
    it('is refused without URL_FETCH_ALLOWLIST, before any request reaches it', async () => {
      const before = seen.length;
      await expect(fetchToFile(`${target.base}/ok`, file('a'), { allowlist: [], maxBytes: 100 })).rejects.toMatchObject({ code: 'url_forbidden' });
      await expect(fetchToFile(`http://localhost:${target.port}/ok`, file('a'), { allowlist: [], maxBytes: 100 })).rejects.toMatchObject({
        code: 'url_forbidden',
        message: expect.stringContaining('localhost resolves to'),
      });
      expect(seen.length).toBe(before);
    });

    it.each([['127.0.0.1'], ['127.0.0.0/8'], ['localhost']])('is reached when the allowlist names it (%s)', async (entry) => {
      const host = entry === 'localhost' ? 'localhost' : '127.0.0.1';
      const fetched = await fetchToFile(`http://${host}:${target.port}/ok`, file(`b-${entry.replace('/', '_')}`), { allowlist: [entry], maxBytes: 100 });
      expect(fetched.bytes).toBe(5);
    });

    it('follows up to 3 redirects, checking each hop; a 4th is refused', async () => {
      const fetched = await fetchToFile(`${target.base}/hop2`, file('c'), { allowlist: ['127.0.0.1'], maxBytes: 100 });
      expect(fetched.finalUrl).toBe(`${target.base}/ok`);
      expect(await readFile(file('c'), 'utf8')).toBe('hello');
      await expect(fetchToFile(`${target.base}/hop3`, file('d'), { allowlist: ['127.0.0.1'], maxBytes: 100 })).rejects.toMatchObject({
        code: 'url_forbidden',
        message: 'more than 3 redirects',
      });
    });

    it.each([['/to-metadata'], ['/to-metadata-v6'], ['/to-file']])('refuses a redirect hop to a forbidden place (%s)', async (hop) => {
      await expect(fetchToFile(`${target.base}${hop}`, file('e'), { allowlist: ['127.0.0.1'], maxBytes: 100 })).rejects.toMatchObject({ code: 'url_forbidden' });
    });

    it('checks a redirect hop by its own address: a decimal spelling of the allow-listed one passes, a private name does not', async () => {
      const lookup = fakeDns({ 'internal.test': ['10.0.0.7'] });
      const okay = await fetchToFile(`${target.base}/to-decimal`, file('f'), { allowlist: ['127.0.0.1'], maxBytes: 100 });
      expect(okay.finalUrl).toBe(`${target.base}/ok`);
      await expect(fetchToFile(`${target.base}/to-name`, file('g'), { allowlist: ['127.0.0.1'], maxBytes: 100, lookup })).rejects.toMatchObject({
        code: 'url_forbidden',
        message: expect.stringContaining('internal.test resolves to 10.0.0.7'),
      });
      expect(lookup.calls['internal.test']).toBe(1);
    });
  });

  describe('DNS: resolved once, every answer checked, the connection pinned to it', () => {
    it('refuses a name that resolves to a private address, without connecting', async () => {
      const lookup = fakeDns({ 'cdn.example': ['127.0.0.1'], 'meta.example': ['169.254.169.254'], 'v6.example': ['fd00:ec2::254'] });
      const before = seen.length;
      for (const host of ['cdn.example', 'meta.example', 'v6.example']) {
        await expect(fetchToFile(`http://${host}:${target.port}/ok`, file('h'), { allowlist: [], maxBytes: 100, lookup })).rejects.toMatchObject({ code: 'url_forbidden' });
      }
      expect(seen.length).toBe(before);
    });

    it('refuses a name when any of its addresses is private (a public answer cannot hide a private one)', async () => {
      const lookup = fakeDns({ 'mixed.example': ['93.184.216.34', '127.0.0.1'] });
      await expect(fetchToFile(`http://mixed.example:${target.port}/ok`, file('i'), { allowlist: [], maxBytes: 100, lookup })).rejects.toMatchObject({
        code: 'url_forbidden',
        message: expect.stringContaining('127.0.0.1'),
      });
    });

    it('connects to the very address it checked: a rebinding resolver gets one question per connection', async () => {
      // first answer: the allow-listed test server; any later answer: the metadata service
      const rebinding = () => fakeDns({ 'rebind.test': (call) => (call === 1 ? ['127.0.0.1'] : ['169.254.169.254']) });
      const lookup = rebinding();
      const fetched = await fetchToFile(`http://rebind.test:${target.port}/ok`, file('j'), { allowlist: ['127.0.0.1/32'], maxBytes: 100, lookup });
      expect(fetched.bytes).toBe(5);
      expect(lookup.calls['rebind.test']).toBe(1);
      // the request went to the checked address under its own name: .test names have no real DNS
      expect(seen.at(-1)).toEqual({ url: '/ok', host: `rebind.test:${target.port}` });

      // a redirect hop opens a new connection: resolved and checked again, so the rebound answer is caught there
      const again = rebinding();
      const before = seen.length;
      await expect(fetchToFile(`http://rebind.test:${target.port}/hop1`, file('j2'), { allowlist: ['127.0.0.1/32'], maxBytes: 100, lookup: again })).rejects.toMatchObject({
        code: 'url_forbidden',
        message: expect.stringContaining('rebind.test resolves to 169.254.169.254'),
      });
      expect(again.calls['rebind.test']).toBe(2);
      expect(seen.slice(before).map((s) => s.url)).toEqual(['/hop1']);
    });

    it('webhooks are under the same rules: refused by address after resolution', async () => {
      const lookup = fakeDns({ 'hooks.example': ['10.1.1.1'] });
      await expect(postGuarded('https://hooks.example/x', '{}', {}, { allowlist: [], lookup })).rejects.toThrow(/hooks\.example resolves to 10\.1\.1\.1/);
      expect(() => checkCallbackUrl('http://hooks.example/x', [])).toThrow(/https/);
      expect(() => checkCallbackUrl('https://[::ffff:169.254.169.254]/', [])).toThrow(UrlForbiddenError);
    });
  });

  describe('size and time limits on every fetch', () => {
    it('refuses a declared size over the cap, and a streamed one as soon as it crosses it, keeping no partial file', async () => {
      await expect(fetchToFile(`${target.base}/declared-big`, file('k'), { allowlist: ['127.0.0.1'], maxBytes: 1000 })).rejects.toMatchObject({ code: 'media_too_large' });
      await expect(fetchToFile(`${target.base}/chunked-big`, file('l'), { allowlist: ['127.0.0.1'], maxBytes: 3000 })).rejects.toMatchObject({ code: 'media_too_large' });
      await expect(readFile(file('l'))).rejects.toThrow();
    });

    it('gives up on a server that never answers, and on one that drips its body, within the time limits', async () => {
      const started = Date.now();
      await expect(fetchToFile(`${target.base}/no-headers`, file('m'), { allowlist: ['127.0.0.1'], maxBytes: 1000, timeoutMs: 300 })).rejects.toMatchObject({ code: 'fetch_failed' });
      // a byte every 100 ms never trips the 300 ms pause limit; the whole-fetch limit (4×) stops it
      await expect(fetchToFile(`${target.base}/drip`, file('n'), { allowlist: ['127.0.0.1'], maxBytes: 100_000, timeoutMs: 300 })).rejects.toMatchObject({ code: 'fetch_failed' });
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
});

describe('SSRF through the API: refused URLs fail the job with url_forbidden; webhooks are refused at creation', () => {
  let service: TestService;
  let images: Awaited<ReturnType<typeof listen>>;
  let photo: Buffer;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-ssrf-img-'));
    photo = await readFile(await makeTestImage(path.join(dir, 'p.jpg'), 160, 120));
    await rm(dir, { recursive: true, force: true });
    images = await listen((_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo));
    // no allowlist: the test server on 127.0.0.1 is as private as any
    service = await startTestService({ env: { URL_FETCH_ALLOWLIST: '', JOB_ATTEMPTS: '1' } });
  });
  afterAll(async () => {
    await service?.close();
    images?.server.close();
  });

  it('fails a job whose image URL is private, saying why, and never fetches it', async () => {
    for (const url of [`${images.base}/p.jpg`, `http://0x7f.1:${images.port}/p.jpg`, `http://localhost:${images.port}/p.jpg`]) {
      const response = await postJob(service.url, { images: [url], options: { duration_s: 1, resolution: '720p' } });
      expect(response.status).toBe(202);
      const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
      expect(job.status, url).toBe('failed');
      expect(job.error).toMatchObject({ code: 'url_forbidden', retryable: false });
      expect(job.error.message).toMatch(/loopback address that is not reachable from this service/);
    }
  });

  it('fails a job whose music URL points at the metadata service', async () => {
    const form = new FormData();
    form.append('file', new Blob([photo]), 'p.jpg');
    const uploaded = await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    const [upload] = ((await uploaded.json()) as { data: { id: string }[] }).data;
    const response = await postJob(service.url, { images: [`upload:${upload!.id}`], options: { duration_s: 1, audio: { url: 'http://0xa9fea9fe/latest/a.mp3' } } });
    const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
    expect(job.error).toMatchObject({ code: 'url_forbidden' });
    expect(job.error.message).toContain('169.254.169.254, a linkLocal address');
  });

  it('refuses private, metadata and plain-http webhook URLs at creation with 400', async () => {
    for (const webhook_url of ['https://127.0.0.1/h', 'https://2130706433/h', 'https://[::ffff:127.0.0.1]/h', 'https://169.254.169.254/h', 'https://[fd00:ec2::254]/h', 'https://100.64.1.1/h', 'https://localhost/h', 'http://hooks.example.com/h']) {
      const response = await postJob(service.url, { images: ['https://shop.example/a.jpg'], webhook_url });
      expect(response.status, webhook_url).toBe(400);
      const problem = (await response.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors[0]?.path).toBe('body.webhook_url');
    }
  });
});

describe('URL_FETCH_ALLOWLIST is the way to reach a private host', () => {
  let service: TestService;
  let images: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-ssrf-img-'));
    const photo = await readFile(await makeTestImage(path.join(dir, 'p.jpg'), 160, 120));
    await rm(dir, { recursive: true, force: true });
    images = await listen((_req, res) => void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo));
    service = await startTestService({ env: { URL_FETCH_ALLOWLIST: '127.0.0.1' } });
  });
  afterAll(async () => {
    await service?.close();
    images?.server.close();
  });

  it('renders a job from the allow-listed server', async () => {
    const response = await postJob(service.url, { images: [`${images.base}/p.jpg`], options: { duration_s: 1, resolution: '720p', fps: 24 } });
    const job = await waitForJob(service.url, ((await response.json()) as { id: string }).id);
    expect(job.status).toBe('succeeded');
  });
});
