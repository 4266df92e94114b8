import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RENDER_QUEUE } from '../../src/shared/infra/queues.ts';
import { createRedis } from '../../src/shared/infra/redis.ts';
import { serviceWithFaults, type FaultService } from '../helpers/fault-service.ts';

/**
 * Nothing holds a job for ever: its own deadline, the render's, S3's (in
 * test/shared/s3-storage.test.ts) and a backend's Retry-After.
 */

describe('JOB_TIMEOUT_S: a job that takes too long fails and frees its worker', () => {
  let drill: FaultService;
  beforeAll(async () => {
    drill = await serviceWithFaults({ JOB_TIMEOUT_S: '15', RENDER_TIMEOUT_S: '600' });
  });
  afterAll(async () => drill?.service.close());

  it('fails a job whose render hangs past the deadline with job_timeout, cancels the render, and runs the next job', async () => {
    await drill.engine('POST', '/_engine/faults', { kind: 'render-delay', seconds: 90 });
    const late = await drill.runJob();
    expect(late.status).toBe('failed');
    expect(late.error).toMatchObject({ code: 'job_timeout', retryable: false });
    expect(late.error.message).toContain('JOB_TIMEOUT_S');
    const record = await drill.service.records.get(late.id);
    const render = (await drill.renders()).find((r) => r.id === record?.checkpoint.renderId);
    expect(render).toMatchObject({ status: 'failed', error: 'canceled' });

    // one worker slot: the next job only runs if the late one let go of it
    const next = await drill.runJob();
    expect(next).toMatchObject({ status: 'succeeded' });
  });
});

describe('RENDER_TIMEOUT_S: a render that never ends is replaced once, then the job fails', () => {
  let drill: FaultService;
  beforeAll(async () => {
    drill = await serviceWithFaults({ RENDER_TIMEOUT_S: '12', JOB_TIMEOUT_S: '600' });
  });
  afterAll(async () => drill?.service.close());
  beforeEach(async () => drill.engine('DELETE', '/_engine/faults'));

  it('cancels a render that runs past the timeout and succeeds with one more render', async () => {
    await drill.engine('POST', '/_engine/faults', { kind: 'render-delay', seconds: 90 });
    const job = await drill.runJob();
    expect(job.status).toBe('succeeded');
    const record = await drill.service.records.get(job.id);
    expect(record?.checkpoint.renderAttempt).toBe(2);
    const all = await drill.renders();
    const first = all.find((r) => r.id === record!.checkpoint.renderId!.replace(/_2$/, ''));
    expect(first).toMatchObject({ status: 'failed', error: 'canceled' });
  });

  it('fails with render_timeout when the second render runs past it too', async () => {
    await drill.engine('POST', '/_engine/faults', { kind: 'render-delay', seconds: 90, times: 2 });
    const job = await drill.runJob();
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'render_timeout', retryable: false });
  });
});

describe("the backend's Retry-After is capped and each 429 spends an attempt", () => {
  let drill: FaultService;
  beforeAll(async () => {
    drill = await serviceWithFaults({ BACKEND_RETRY_AFTER_MAX_S: '1', JOB_ATTEMPTS: '3' });
  });
  afterAll(async () => drill?.service.close());
  beforeEach(async () => drill.engine('DELETE', '/_engine/faults'));

  it('pauses the queue for at most BACKEND_RETRY_AFTER_MAX_S when the backend asks for an hour', async () => {
    const queue = new Queue(RENDER_QUEUE, { connection: createRedis(drill.service.config.REDIS_URL), prefix: drill.service.config.REDIS_PREFIX });
    try {
      await drill.engine('POST', '/_engine/faults', { kind: 'reply', endpoint: 'create_session', code: 429, retry_after_s: 3600 });
      const job = drill.runJob();
      let pausedMs = 0;
      for (let i = 0; i < 200 && pausedMs <= 0; i++) {
        pausedMs = await queue.getRateLimitTtl();
        await sleep(10);
      }
      expect(pausedMs).toBeGreaterThan(0);
      expect(pausedMs).toBeLessThanOrEqual(1000);
      expect((await job).status).toBe('succeeded');
    } finally {
      await queue.close();
    }
  });

  it('fails with backend_rate_limited once 429s have used up JOB_ATTEMPTS', async () => {
    await drill.engine('POST', '/_engine/faults', { kind: 'reply', endpoint: 'create_session', code: 429, retry_after_s: 1, times: 20 });
    const job = await drill.runJob();
    expect(job).toMatchObject({ status: 'failed', error: { code: 'backend_rate_limited' } });
    const left = (await drill.engine('GET', '/_engine/faults')).armed as { times: number }[];
    expect(left[0]?.times).toBe(17); // three runs, one 429 each
  });
});
