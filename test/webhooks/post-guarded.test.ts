import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostFailedError, postGuarded } from '../../src/shared/media/fetch-guard.ts';
import { UrlForbiddenError } from '../../src/shared/net/address-policy.ts';

describe('postGuarded: the webhook POST under the fetch guard', () => {
  const servers: Server[] = [];
  const hits: { host: string; path: string; body: string; headers: Record<string, unknown> }[] = [];
  let one = '';
  let two = '';

  async function listen(host: string): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ host, path: req.url ?? '', body: Buffer.concat(chunks).toString(), headers: req.headers });
        if (req.url === '/redirect') return void res.writeHead(302, { location: '/landed' }).end();
        if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 2000);
        if (req.url === '/big') return void res.writeHead(200).end(Buffer.alloc(4 * 1024 * 1024));
        res.writeHead(202).end('ok');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return `http://${host}:${(server.address() as { port: number }).port}`;
  }

  beforeAll(async () => {
    one = await listen('127.0.0.1');
    two = await listen('127.0.0.2');
  });
  afterAll(() => {
    for (const server of servers) server.closeAllConnections(), server.close();
  });

  const allow = { allowlist: ['127.0.0.1'] };

  it('posts the body and headers to an allow-listed address and returns the status', async () => {
    const reply = await postGuarded(`${one}/hook`, '{"a":1}', { 'content-type': 'application/json', 'webhook-id': 'evt_1' }, allow);
    expect(reply.statusCode).toBe(202);
    expect(hits.at(-1)).toMatchObject({ path: '/hook', body: '{"a":1}', headers: { 'webhook-id': 'evt_1' } });
  });

  it('returns a redirect without following it', async () => {
    const reply = await postGuarded(`${one}/redirect`, '{}', {}, allow);
    expect(reply.statusCode).toBe(302);
    expect(hits.some((h) => h.path === '/landed')).toBe(false);
  });

  it('refuses a private address that is not allow-listed, before connecting', async () => {
    const before = hits.length;
    await expect(postGuarded(`${two}/hook`, '{}', {}, allow)).rejects.toThrow(UrlForbiddenError);
    await expect(postGuarded(`http://localhost:${new URL(one).port}/hook`, '{}', {}, allow)).rejects.toThrow(UrlForbiddenError);
    await expect(postGuarded('http://169.254.169.254/latest', '{}', {}, allow)).rejects.toThrow(UrlForbiddenError);
    await expect(postGuarded('http://example.com/hook', '{}', {}, allow)).rejects.toThrow(/must use https/);
    expect(hits.length).toBe(before);
  });

  it('resolves a host name once and refuses it when it points at a private address', async () => {
    const error = await postGuarded(`https://${hostname()}:${new URL(two).port}/hook`, '{}', {}, { allowlist: ['127.0.0.2'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UrlForbiddenError);
    expect((error as Error).message).toMatch(/resolves to .*not reachable/);
  });

  it('gives up on a receiver that does not answer in time, and on one that cannot be reached', async () => {
    const started = Date.now();
    const slow = await postGuarded(`${one}/slow`, '{}', {}, { ...allow, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(PostFailedError);
    expect((slow as PostFailedError).kind).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const closed = await postGuarded('http://127.0.0.1:1/hook', '{}', {}, allow).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(PostFailedError);
    expect((closed as PostFailedError).kind).toBe('network');
  });

  it('reads only a little of a large reply', async () => {
    const reply = await postGuarded(`${one}/big`, '{}', {}, { ...allow, maxResponseBytes: 1024 });
    expect(reply.statusCode).toBe(200);
  });
});
