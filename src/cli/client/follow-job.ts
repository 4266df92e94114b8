import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES } from '../../shared/jobs/job-record.ts';
import type { JobView } from '../../shared/jobs/job-view.ts';
import type { ApiClient } from './api-client.ts';
import { ApiProblem } from './api-problem.ts';

/** Attempts in a row that bring no news, after which following gives up. */
const MAX_FRUITLESS_ATTEMPTS = 5;
const RECONNECT_DELAY_MS = 1000;

const ended = (job: JobView) => TERMINAL_STATUSES.has(job.status);
/** The API's own refusals (401, 404…) are final; a lost connection is worth another try. */
const final = (error: unknown) => error instanceof ApiProblem && error.status !== 0;

/**
 * Follows a job over its event stream until it ends, calling `onUpdate` with
 * every snapshot. A stream that drops before the end is reopened, after a
 * read of the job, so nothing that happened meanwhile is missed.
 */
export async function followJob(client: ApiClient, id: string, onUpdate: (job: JobView) => void): Promise<JobView> {
  let fruitless = 0;
  let lastError: unknown;
  for (;;) {
    let received = false;
    try {
      for await (const job of client.events(id)) {
        received = true;
        onUpdate(job);
        if (ended(job)) return job;
      }
      const job = await client.getJob(id);
      onUpdate(job);
      if (ended(job)) return job;
    } catch (error) {
      if (final(error)) throw error;
      lastError = error;
    }
    fruitless = received ? 0 : fruitless + 1;
    if (fruitless >= MAX_FRUITLESS_ATTEMPTS) {
      throw lastError ?? new ApiProblem(0, 'Lost the event stream', `the stream of ${id} keeps ending before the job does`, 'stream_lost');
    }
    if (fruitless > 0) await sleep(RECONNECT_DELAY_MS);
  }
}
