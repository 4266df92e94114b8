import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/cli/private-redis.ts';
import { makeTestImage } from '../helpers/media.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { Receiver } from './receiver.ts';

const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };
const CONFIGURED_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const KEYS = { dev: 'dev-key', shop: 'shop-key' } as const;
/** a configured backend token: an anonymous one would go with the flush, and the engine would not know a render of the old token polled with the new one */
const BACKEND_TOKEN = `tok_${randomBytes(12).toString('hex')}`;
type Tenant = keyof typeof KEYS;

interface Delivery {
  path: string;
  id: string;
  jobId: string;
}

/** A tenant's webhook endpoint: verifies each delivery with the secret installed in it (standardwebhooks), 204 if it verifies, 401 if not. */
class VerifyingReceiver {
  readonly accepted: Delivery[] = [];
  readonly rejected: Delivery[] = [];
  private readonly secrets = new Map<string, string>();
  private server!: Server;
  url = '';

  install(route: string, secret: string): void {
    this.secrets.set(route, secret);
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const route = request.url ?? '/';
        const body = Buffer.concat(chunks).toString('utf8');
        const delivery = { path: route, id: String(request.headers['webhook-id']), jobId: (JSON.parse(body) as { data: { id: string } }).data.id };
        try {
          new Webhook(this.secrets.get(route) ?? '').verify(body, request.headers as Record<string, string>);
          this.accepted.push(delivery);
          response.writeHead(204).end();
        } catch {
          this.rejected.push(delivery);
          response.writeHead(401).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhook secrets when Redis loses its data: nothing is signed with a secret the receivers cannot know', () => {
  let redis: PrivateRedis;
  let flusher: Redis;
  let service: TestService;
  let images: Receiver;
  let receiver: VerifyingReceiver;
  let imageUrl: string;
  const logLines: Record<string, any>[] = [];
  const logText: string[] = [];

  beforeAll(async () => {
    // its own redis-server, persisting nothing: the suite's is shared with other files
    redis = await startPrivateRedis();
    flusher = new Redis(redis.url);
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString('utf8');
        logText.push(text);
        for (const line of text.split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    service = await startTestService({
      engine: { staticTokens: [BACKEND_TOKEN] },
      env: {
        NEMO_TOKEN: BACKEND_TOKEN,
        REDIS_URL: redis.url,
        API_KEYS: `dev=${KEYS.dev},shop=${KEYS.shop}`,
        WEBHOOK_SECRETS: `shop=${CONFIGURED_SECRET}`,
        WEBHOOK_RETRY_SCHEDULE: '0,0.2,0.2',
        LOG_LEVEL: 'info',
      },
      logDestination,
    });
    images = await new Receiver().start();
    imageUrl = images.serve('/photo.jpg', 'image/jpeg', await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240)));
    receiver = await new VerifyingReceiver().start();
  });
  afterAll(async () => {
    receiver?.close();
    images?.close();
    flusher?.disconnect();
    await service?.close();
    await redis?.stop();
  });

  const call = async (tenant: Tenant, method: string, route: string) => {
    const response = await fetch(`${service.url}${route}`, { method, headers: { authorization: `Bearer ${KEYS[tenant]}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as any;
  };

  async function finishedJob(tenant: Tenant): Promise<string> {
    const created = await postJob(service.url, { images: [imageUrl], options: SMALL, webhook_url: `${receiver.url}/${tenant}` }, KEYS[tenant]);
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const job = await waitForJob(service.url, id, KEYS[tenant]);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    return id;
  }

  const acceptedFor = (jobId: string) => until(`a verified delivery of ${jobId}`, async () => receiver.accepted.find((d) => d.jobId === jobId));

  /** Waits until the job's event was either held or reached the receiver; returns the held attempt. */
  async function heldDelivery(tenant: Tenant, jobId: string): Promise<any> {
    const attempt = await until(`the event of ${jobId} to be held or sent`, async () => {
      if (receiver.accepted.some((d) => d.jobId === jobId) || receiver.rejected.some((d) => d.jobId === jobId)) return null;
      const { data } = await call(tenant, 'GET', `/v1/webhooks/deliveries?job_id=${jobId}`);
      return data.find((a: any) => a.status === 'held');
    });
    // nothing reached the receiver: it could not have verified it
    expect(receiver.rejected.filter((d) => d.jobId === jobId)).toEqual([]);
    expect(receiver.accepted.filter((d) => d.jobId === jobId)).toEqual([]);
    expect(attempt).toMatchObject({ status: 'held', next_attempt_at: null });
    expect(attempt.error).toMatch(/^webhook_secret_lost: /);
    return attempt;
  }

  let generated: any;
  let rotated: any;

  it('signs with the generated secret, and with a configured one after its rotation, before the loss', async () => {
    generated = await call('dev', 'GET', '/v1/webhooks/secret');
    expect(generated).toMatchObject({ lost_secret: null, held_deliveries: 0 });
    expect(Date.parse(generated.created_at)).toBeLessThanOrEqual(Date.now());
    receiver.install('/dev', generated.secret);
    await acceptedFor(await finishedJob('dev'));

    rotated = await call('shop', 'POST', '/v1/webhooks/secret/rotate');
    expect(rotated.secret).not.toBe(CONFIGURED_SECRET);
    receiver.install('/shop', rotated.secret);
    await acceptedFor(await finishedJob('shop'));
    expect(receiver.rejected).toEqual([]);
  });

  it('holds the deliveries of a tenant whose generated secret Redis lost, says so, and sends them once the new secret is acknowledged', async () => {
    const lostAt = Date.now();
    await flusher.flushall();

    const jobId = await finishedJob('dev');
    const attempt = await heldDelivery('dev', jobId);

    const shown = await call('dev', 'GET', '/v1/webhooks/secret');
    expect(shown.secret).not.toBe(generated.secret);
    expect(shown.lost_secret).toEqual({ created_at: generated.created_at, detected_at: shown.created_at });
    expect(Date.parse(shown.created_at)).toBeGreaterThanOrEqual(lostAt);
    expect(shown.held_deliveries).toBe(1);

    const warned = logLines.filter((line) => line.code === 'webhook_secret_lost' && line.tenant === 'dev' && line.level === 50);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ lost_secret_created_at: generated.created_at });
    for (const secret of [generated.secret, shown.secret]) expect(logText.join('')).not.toContain(secret);

    // the tenant installs the new secret, then acknowledges it
    receiver.install('/dev', shown.secret);
    const acknowledged = await call('dev', 'POST', '/v1/webhooks/secret/acknowledge');
    expect(acknowledged).toMatchObject({ secret: shown.secret, created_at: shown.created_at, lost_secret: null });
    const delivered = await acceptedFor(jobId);
    expect(delivered.id).toBe(attempt.event_id);
    expect((await call('dev', 'GET', '/v1/webhooks/secret')).held_deliveries).toBe(0);

    // from now on nothing is held
    await acceptedFor(await finishedJob('dev'));
    expect(receiver.rejected).toEqual([]);
  });

  it('does not fall back to the configured secret of a tenant that had rotated it; a rotation meanwhile waits for the acknowledgement too', async () => {
    const shown = await call('shop', 'GET', '/v1/webhooks/secret');
    expect(shown).toMatchObject({ secret: CONFIGURED_SECRET, created_at: null, lost_secret: { created_at: rotated.created_at } });

    const jobId = await finishedJob('shop');
    await heldDelivery('shop', jobId);

    const next = await call('shop', 'POST', '/v1/webhooks/secret/rotate');
    expect(next).toMatchObject({ lost_secret: { created_at: rotated.created_at }, held_deliveries: 1 });
    expect(next.secret).not.toBe(CONFIGURED_SECRET);
    receiver.install('/shop', next.secret);
    expect(await call('shop', 'POST', '/v1/webhooks/secret/acknowledge')).toMatchObject({ secret: next.secret, lost_secret: null, held_deliveries: 0 });
    await acceptedFor(jobId);
    expect(receiver.rejected).toEqual([]);
  });
});
