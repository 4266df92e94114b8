import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_QUEUE, createRenderQueue } from '../../src/shared/infra/queues.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { spawnApi } from '../helpers/api-process.ts';
import { makeTestImage } from '../helpers/media.ts';
import { cutRedisAt } from '../helpers/redis-cut.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';
import { stopWorker } from '../helpers/worker-process.ts';

const auth = { authorization: 'Bearer dev-key' };
const SMALL = { duration_s: 1, aspect_ratio: '1:1', resolution: '720p' };

/**
 * The API process is killed for real right after it wrote a job's record and
 * before its queue entry reached Redis (a proxy holds that command back); the
 * worker's watchdog must enqueue the job, and the Idempotency-Key must lead to
 * the job that then runs.
 */
describe('an API that dies between a job record and its queue entry', () => {
  let service: TestService;
  let redis: Redis;
  let renders: ReturnType<typeof createRenderQueue>;
  let batchParents: Queue;
  let upload: string;

  beforeAll(async () => {
    service = await startTestService({ env: { WATCHDOG_INTERVAL_S: '0.5' }, engine: { faults: true, noTextRate: 0 } });
    redis = createRedis(service.config.REDIS_URL);
    renders = createRenderQueue(redis, service.config.REDIS_PREFIX);
    batchParents = new Queue(BATCH_QUEUE, { connection: redis, prefix: service.config.REDIS_PREFIX });
    const photo = await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240));
    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'p.jpg');
    upload = ((await (await fetch(`${service.url}/v1/uploads`, { method: 'POST', headers: auth, body: form })).json()) as { data: { id: string }[] }).data[0]?.id as string;
  });
  afterAll(async () => {
    await batchParents?.close();
    await renders?.close();
    redis?.disconnect();
    await service?.close();
  });

  /** Sends `send` to an API process whose Redis goes through a cut at `after`…`holdFrom`, and SIGKILLs it once the cut holds. */
  async function crashApiDuring(cut: { after: string; holdFrom: string }, send: (apiUrl: string) => Promise<Response>): Promise<void> {
    const proxy = await cutRedisAt(service.config.REDIS_URL, cut);
    const api = await spawnApi(service.config, { REDIS_URL: proxy.url });
    const reply = send(api.url).then(
      () => 'answered',
      () => 'no answer',
    );
    await proxy.held;
    await stopWorker(api.child, 'SIGKILL');
    expect(await reply).toBe('no answer');
    await proxy.close();
  }

  it('a job: enqueued again by the watchdog, it succeeds, and its Idempotency-Key returns it', async () => {
    const prefix = service.config.REDIS_PREFIX;
    const body = { images: [`upload:${upload}`], options: SMALL };
    const key = { 'idempotency-key': 'crash-between-record-and-queue' };
    // the crash point: BullMQ adding the prioritized job (its priority counter, `pc`), after the record
    await crashApiDuring({ after: `${prefix}:job:job_`, holdFrom: `${prefix}:render:pc` }, (apiUrl) => postJob(apiUrl, body, 'dev-key', key));

    const [id] = await redis.zrevrangebylex(`${prefix}:tenant:dev:jobs`, '+', '-', 'LIMIT', 0, 1);
    expect(id).toBeDefined();
    // the crash point: the record is written, its queue entry is not
    expect((await service.records.get(id as string))?.status).toBe('queued');
    expect(await renders.getJobState(id as string)).toBe('unknown');

    const job = await waitForJob(service.url, id as string, 'dev-key', 30_000);
    expect(job.status).toBe('succeeded');
    const replay = await postJob(service.url, body, 'dev-key', key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toMatchObject({ id, status: 'succeeded' });
  });

  it('a batch: its flow is added by the watchdog, every item succeeds and the batch completes', async () => {
    const prefix = service.config.REDIS_PREFIX;
    const body = { items: [{ images: [`upload:${upload}`], options: SMALL }, { images: [`upload:${upload}`], options: SMALL }] };
    await crashApiDuring({ after: `${prefix}:batch:bat_`, holdFrom: `${prefix}:${BATCH_QUEUE}:` }, (apiUrl) =>
      fetch(`${apiUrl}/v1/batches`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'crash-batch' }, body: JSON.stringify(body) }),
    );

    const ids = await redis.zrevrangebylex(`${prefix}:tenant:dev:jobs`, '+', '-', 'LIMIT', 0, 2);
    const items = await service.records.getMany(ids);
    expect(items.map((item) => item.status)).toEqual(['queued', 'queued']);
    const batchId = items[0]?.batchId as string;
    expect(await batchParents.getJobState(batchId)).toBe('unknown');

    for (const id of ids) expect((await waitForJob(service.url, id, 'dev-key', 30_000)).status).toBe('succeeded');
    const batchView = async () => (await (await fetch(`${service.url}/v1/batches/${batchId}`, { headers: auth })).json()) as { completed_at: string | null };
    // the flow's parent runs once its items have ended
    while (!(await batchView()).completed_at) await new Promise((r) => setTimeout(r, 50));
    const replay = await fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'crash-batch' }, body: JSON.stringify(body) });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ id: batchId });
  });

  it('a retry: the ended BullMQ job is replaced by the watchdog and the job succeeds', async () => {
    const prefix = service.config.REDIS_PREFIX;
    await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'reply', endpoint: 'upload', code: 4001 }) });
    const created = (await (await postJob(service.url, { images: [`upload:${upload}`], options: SMALL })).json()) as { id: string };
    expect((await waitForJob(service.url, created.id)).status).toBe('failed');

    await crashApiDuring({ after: `${prefix}:finished`, holdFrom: `${prefix}:render:` }, (apiUrl) =>
      fetch(`${apiUrl}/v1/jobs/${created.id}/retry`, { method: 'POST', headers: auth }),
    );
    expect((await service.records.get(created.id))?.status).toBe('queued');
    expect(await renders.getJobState(created.id)).toBe('failed');

    expect((await waitForJob(service.url, created.id, 'dev-key', 30_000)).status).toBe('succeeded');
  });
});
