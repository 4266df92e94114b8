import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newId } from '../../src/shared/infra/ids.ts';
import { JobRecords, type JobRecord } from '../../src/shared/jobs/job-record.ts';
import { createLogger } from '../../src/shared/infra/logger.ts';
import { createRenderQueue } from '../../src/shared/infra/queues.ts';
import { createRedis, type Redis } from '../../src/shared/infra/redis.ts';
import { sweepLostJobs } from '../../src/workers/watchdog.ts';

describe('the watchdog', () => {
  let redis: Redis;
  let records: JobRecords;
  let queue: ReturnType<typeof createRenderQueue>;
  const prefix = `test-${randomBytes(6).toString('hex')}`;

  beforeAll(() => {
    redis = createRedis(inject('redisUrl'));
    records = new JobRecords(redis, prefix);
    queue = createRenderQueue(redis, prefix);
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
  });

  async function runningJob(): Promise<string> {
    const id = newId('job');
    const record: JobRecord = {
      id, tenant: 't', status: 'queued', stage: 'queued', progress: 0, preset: 'motion', prompt: '', options: {}, inputs: [],
      createdAt: new Date().toISOString(), attempts: 0, checkpoint: {}, metadata: {}, webhookEvents: [],
    };
    await records.create(record);
    expect(await records.transition(id, 'start')).toBe(true);
    return id;
  }

  it('fails a running job that BullMQ no longer holds, and leaves one BullMQ still holds', async () => {
    const lost = await runningJob();
    const held = await runningJob();
    await queue.add('render', { jobId: held }, { jobId: held, delay: 60_000 });
    expect(await records.runningIds()).toEqual(expect.arrayContaining([lost, held]));

    expect(await sweepLostJobs(records, queue, createLogger({ level: 'silent' }))).toEqual([lost]);
    expect(await records.get(lost)).toMatchObject({ status: 'failed', error: { code: 'worker_lost', retryable: true } });
    expect((await records.get(held))?.status).toBe('running');
    expect(await records.runningIds()).toEqual([held]);
  });
});
