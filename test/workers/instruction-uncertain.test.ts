import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestImage } from '../helpers/media.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/service.ts';

const auth = { authorization: 'Bearer dev-key' };

/** The `retryable` column of a job error code in docs/errors.md, as a boolean. */
async function documentedRetryable(code: string): Promise<boolean> {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
  const cell = row?.split('|').at(-2)?.trim();
  if (cell !== 'yes' && cell !== 'no') throw new Error(`docs/errors.md has no yes/no retryable cell for ${code}: ${row}`);
  return cell === 'yes';
}

/**
 * A backend that charges for the instruction and then loses the work (the
 * stream breaks, the edit never shows): the job fails instruction_uncertain,
 * terminal as the docs say, and neither the worker nor a retry the tenant
 * asks for sends the instruction a second time.
 */
describe('an instruction charged but never applied', () => {
  let service: TestService;
  let photo: Blob;

  beforeAll(async () => {
    service = await startTestService({
      engine: { faults: true, noTextRate: 0 },
      env: { INSTRUCTION_LANDING_WAIT_S: '0.5', JOB_BACKOFF_MS: '100', JOB_ATTEMPTS: '3' },
    });
    photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  });
  afterAll(async () => service?.close());

  const instructionsSent = async () => {
    const stats = (await (await fetch(`${service.engineUrl}/_engine/stats`)).json()) as { data: { sessions: { instructions: number }[] } };
    return stats.data.sessions.reduce((n, s) => n + s.instructions, 0);
  };

  it('fails instruction_uncertain, not retryable as documented, and is never sent twice', async () => {
    const armed = await fetch(`${service.engineUrl}/_engine/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'lose-edit' }) });
    expect(armed.status).toBe(200);
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = (await (await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: auth, body: form })).json()) as { id: string };

    const failed = await waitForJob(service.url, created.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'instruction_uncertain', retryable: false } });
    expect(failed.error.retryable).toBe(await documentedRetryable('instruction_uncertain'));
    expect(failed.error.message).not.toMatch(/retry/i);
    expect(await instructionsSent()).toBe(1);

    // a retry looks for the edit again; it does not pay for the instruction again
    expect((await fetch(`${service.url}/v1/jobs/${created.id}/retry`, { method: 'POST', headers: auth })).status).toBe(200);
    const again = await waitForJob(service.url, created.id);
    expect(again).toMatchObject({ status: 'failed', error: { code: 'instruction_uncertain' } });
    expect(await instructionsSent()).toBe(1);
  });
});
