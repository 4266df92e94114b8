import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceWithFaults, type FaultService } from '../helpers/fault-service.ts';
import { waitForJob } from '../helpers/service.ts';

describe('a job that failed render_failed can be retried', () => {
  let drill: FaultService;
  beforeAll(async () => {
    drill = await serviceWithFaults({});
  });
  afterAll(async () => drill?.service.close());

  it('renders again on retry, with a new render id and a fresh allowance of two renders', async () => {
    await drill.engine('POST', '/_engine/faults', { kind: 'render-fail', times: 2 });
    const failed = await drill.runJob();
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'render_failed' } });

    const retried = await fetch(`${drill.service.url}/v1/jobs/${failed.id}/retry`, { method: 'POST', headers: { authorization: 'Bearer dev-key' } });
    expect(retried.status).toBe(200);
    const job = await waitForJob(drill.service.url, failed.id);
    expect(job.status).toBe('succeeded');
    const ids = (await drill.renders()).map((r) => r.id).filter((id) => id.includes(failed.id.replace(/^job_/, '')));
    expect(ids).toHaveLength(3); // two failed ones, then the retry's own
  });
});
