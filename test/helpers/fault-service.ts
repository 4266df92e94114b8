import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTestImage } from './media.ts';
import { startTestService, waitForJob } from './service.ts';

export type FaultService = Awaited<ReturnType<typeof serviceWithFaults>>;

/** A service whose engine takes faults, and a small job to post to it. */
export async function serviceWithFaults(env: Record<string, string>) {
  const service = await startTestService({ engine: { faults: true, noTextRate: 0 }, env: { JOB_BACKOFF_MS: '100', WORKER_CONCURRENCY: '1', ...env } });
  const photo = new Blob([await readFile(await makeTestImage(path.join(service.dir, 'p.jpg'), 320, 240))], { type: 'image/jpeg' });
  const engine = async (method: string, route: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${service.engineUrl}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return ((await response.json()) as { data: unknown }).data;
  };
  /** posts one small job and waits for its end */
  const runJob = async () => {
    const form = new FormData();
    form.append('images', photo, 'p.jpg');
    form.append('options', JSON.stringify({ duration_s: 1, aspect_ratio: '1:1', resolution: '720p' }));
    const created = await fetch(`${service.url}/v1/jobs`, { method: 'POST', headers: { authorization: 'Bearer dev-key' }, body: form });
    return waitForJob(service.url, ((await created.json()) as { id: string }).id);
  };
  const renders = async (): Promise<{ id: string; status: string; error: string | null }[]> => (await engine('GET', '/_engine/renders')).renders;
  return { service, engine, runJob, renders };
}

