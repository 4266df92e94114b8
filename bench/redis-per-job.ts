/**
 * Redis bytes per job: what one finished job keeps in Redis, for the sizing
 * notes of docs/deploy.md. A private redis-server holds only this run; the
 * stack (engine in benchmark mode, API, one worker) runs JOBS jobs without
 * webhooks, then JOBS jobs that send job.started, job.progress and
 * job.succeeded to a local receiver. After each group has ended (and its
 * deliveries are done) the prefix's keys are summed with MEMORY USAGE, so
 * each figure includes the job's share of every index, set, stream and
 * BullMQ list, plus INFO used_memory as a cross-check (allocator overhead
 * included). Prints bytes per job for both groups and per delivery.
 * `npx tsx bench/redis-per-job.ts`; JOBS (per group, default 50).
 */
import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { startPrivateRedis } from '../src/cli/private-redis.ts';
import { WEBHOOK_QUEUE } from '../src/shared/webhooks/events.ts';
import { prefixMemory } from './lib/redis-keys.ts';
import { writeResults } from './lib/results.ts';
import { BenchStack } from './lib/stack.ts';
import { printTable } from './lib/table.ts';

const JOBS = Number(process.env.JOBS ?? 50);

/** A webhook receiver answering 200, counting deliveries by event type. */
async function startReceiver(): Promise<{ url: string; counts: Map<string, number>; server: Server }> {
  const counts = new Map<string, number>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const type = (JSON.parse(body) as { type: string }).type;
      counts.set(type, (counts.get(type) ?? 0) + 1);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, counts, server };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function submit(stack: BenchStack, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: 'Bearer dev-key', 'content-type': 'application/json' },
    body: JSON.stringify({ images: [await stack.photo()], options: { duration_s: 1, resolution: '720p', aspect_ratio: '1:1' }, ...body }),
  });
  if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Waits until the webhook queue has nothing left to send. */
async function deliveriesSettled(queue: Queue): Promise<void> {
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const redisServer = await startPrivateRedis();
process.env.REDIS_URL = redisServer.url;
const receiver = await startReceiver();
const stack = await BenchStack.start({ workers: 1, env: { URL_FETCH_ALLOWLIST: '127.0.0.1' }, workerEnv: { WORKER_CONCURRENCY: '4' } });
const webhooks = new Queue(WEBHOOK_QUEUE, { connection: stack.redis, prefix: stack.prefix });
try {
  // one job of each kind first: queues, schedulers and scripts exist before anything is measured
  await submit(stack, {});
  await submit(stack, { webhook_url: receiver.url, webhook_events: ['job.started', 'job.progress', 'job.succeeded'] });
  await stack.waitForEnded(2, 60_000);
  await deliveriesSettled(webhooks);
  const counted = () => [...receiver.counts.values()].reduce((a, b) => a + b, 0);

  const before = { keys: await prefixMemory(stack.redis, stack.prefix), used: await usedMemory(stack.redis) };
  await Promise.all(Array.from({ length: JOBS }, () => submit(stack, {})));
  await stack.waitForEnded(2 + JOBS, 300_000);
  const plain = { keys: await prefixMemory(stack.redis, stack.prefix), used: await usedMemory(stack.redis) };

  const deliveredBefore = counted();
  const progressBefore = receiver.counts.get('job.progress') ?? 0;
  await Promise.all(Array.from({ length: JOBS }, () => submit(stack, { webhook_url: receiver.url, webhook_events: ['job.started', 'job.progress', 'job.succeeded'] })));
  await stack.waitForEnded(2 + 2 * JOBS, 300_000);
  await deliveriesSettled(webhooks);
  const hooked = { keys: await prefixMemory(stack.redis, stack.prefix), used: await usedMemory(stack.redis) };
  const deliveries = counted() - deliveredBefore;
  const progress = (receiver.counts.get('job.progress') ?? 0) - progressBefore;

  const perJob = (to: typeof plain, from: typeof plain) => ({
    memoryUsage: Math.round((to.keys.bytes - from.keys.bytes) / JOBS),
    usedMemory: Math.round((to.used - from.used) / JOBS),
  });
  const withoutWebhooks = perJob(plain, before);
  const withWebhooks = perJob(hooked, plain);
  const perDelivery = {
    memoryUsage: Math.round(((hooked.keys.bytes - plain.keys.bytes) - (plain.keys.bytes - before.keys.bytes)) / deliveries),
    usedMemory: Math.round(((hooked.used - plain.used) - (plain.used - before.used)) / deliveries),
  };
  printTable(`Redis bytes per finished job (${JOBS} jobs per group)`, [
    { kept: 'a job without webhooks', 'MEMORY USAGE of the keys': withoutWebhooks.memoryUsage, used_memory: withoutWebhooks.usedMemory },
    {
      kept: `a job with ${(deliveries / JOBS).toFixed(1)} deliveries (${(progress / JOBS).toFixed(1)} job.progress)`,
      'MEMORY USAGE of the keys': withWebhooks.memoryUsage,
      used_memory: withWebhooks.usedMemory,
    },
    { kept: 'each delivery (event, delivery job, attempt)', 'MEMORY USAGE of the keys': perDelivery.memoryUsage, used_memory: perDelivery.usedMemory },
  ]);
  const file = await writeResults('redis-per-job', { jobs: JOBS, deliveriesPerJob: deliveries / JOBS, progressPerJob: progress / JOBS, withoutWebhooks, withWebhooks, perDelivery });
  console.log(`results: ${file}`);
} finally {
  await webhooks.close();
  await stack.stop();
  receiver.server.close();
  await redisServer.stop();
}
