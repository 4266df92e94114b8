import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/shared/infra/config.ts';
import { jobEventId } from '../../src/shared/webhooks/events.ts';
import { DEFAULT_RETRY_SCHEDULE_S, retryAfterMs, scheduledDelayMs } from '../../src/shared/webhooks/schedule.ts';

describe('webhook settings, retry schedule and event ids', () => {
  it('reads WEBHOOK_SECRETS and WEBHOOK_RETRY_SCHEDULE, and never quotes a secret in an error', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const config = loadConfig({ WEBHOOK_SECRETS: `shop=${secret}`, WEBHOOK_RETRY_SCHEDULE: '0, 1.5,60' });
    expect(config.WEBHOOK_SECRETS.get('shop')).toBe(secret);
    expect(config.WEBHOOK_RETRY_SCHEDULE).toEqual([0, 1.5, 60]);
    expect(loadConfig({}).WEBHOOK_RETRY_SCHEDULE).toEqual([...DEFAULT_RETRY_SCHEDULE_S]);
    expect(loadConfig({}).WEBHOOK_TIMEOUT_S).toBe(10);

    const bad = 'whsec_not!base64';
    let error: unknown;
    try {
      loadConfig({ WEBHOOK_SECRETS: `shop=${bad},other=${secret},other=${secret}`, WEBHOOK_RETRY_SCHEDULE: '0,soon' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('WEBHOOK_SECRETS: the secret of tenant "shop"');
    expect(message).toContain('tenant "other" has more than one secret');
    expect(message).toContain('WEBHOOK_RETRY_SCHEDULE');
    expect(message).not.toContain(bad);
    expect(message).not.toContain(secret);
  });

  it('jitters each scheduled delay by at most 10%, and ends with the schedule', () => {
    const schedule = [0, 5, 300];
    expect(scheduledDelayMs(schedule, 1, () => 0.99)).toBe(0);
    expect(scheduledDelayMs(schedule, 2, () => 0)).toBe(4500);
    expect(scheduledDelayMs(schedule, 2, () => 1)).toBe(5500);
    expect(scheduledDelayMs(schedule, 3, () => 0.5)).toBe(300_000);
    expect(scheduledDelayMs(schedule, 4)).toBeUndefined();
  });

  it('reads Retry-After as seconds or a date, capped at a day', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('999999999', now)).toBe(24 * 3600 * 1000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('derives event ids from the record: one per success, one per failure or cancel of each run', () => {
    const job = { id: 'job_01jabcdefghjkmnpqrstvwxyz0', attempts: 2, finishedAt: '2026-01-01T00:00:00.000Z' };
    expect(jobEventId('job.succeeded', job)).toBe('evt_01jabcdefghjkmnpqrstvwxyz0_succeeded');
    expect(jobEventId('job.succeeded', { ...job, attempts: 3 })).toBe(jobEventId('job.succeeded', job));
    expect(jobEventId('job.failed', job)).toBe('evt_01jabcdefghjkmnpqrstvwxyz0_failed_2_1767225600000');
    expect(jobEventId('job.canceled', { ...job, finishedAt: '2026-01-01T00:00:01.000Z' })).not.toBe(jobEventId('job.canceled', job));
    expect(jobEventId('job.started', job)).toBe('evt_01jabcdefghjkmnpqrstvwxyz0_started_2');
    expect(jobEventId('job.progress', job, 4000)).not.toBe(jobEventId('job.progress', job, 6000));
    expect(jobEventId('job.progress', job, 4000)).toBe(jobEventId('job.progress', job, 5999));
  });
});
