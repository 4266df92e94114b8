/**
 * The HTTP + enqueue floor of the ingest benchmark (a throwaway server, not
 * the API): one Fastify route that does nothing but `queue.add` with the
 * request body. `PORT`, `REDIS_URL`, `REDIS_PREFIX` from the environment.
 */
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { createRedis } from '../../src/shared/infra/redis.ts';

const queue = new Queue('render', { connection: createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'), prefix: process.env.REDIS_PREFIX });
const app = Fastify();
app.get('/healthz', async () => ({ ok: true }));
app.post('/enqueue', async (request, reply) => {
  const job = await queue.add('render', request.body);
  return reply.code(202).send({ id: job.id });
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.once('SIGTERM', () => void app.close().then(() => queue.close()).then(() => process.exit(0)));
