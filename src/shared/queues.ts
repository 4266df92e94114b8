import { Queue, type ConnectionOptions } from 'bullmq';

/** BullMQ carries only the job id; everything else is on the job record. */
export interface RenderJobData {
  jobId: string;
}

export const RENDER_QUEUE = 'render';

export function createRenderQueue(connection: ConnectionOptions, prefix: string): Queue<RenderJobData> {
  return new Queue<RenderJobData>(RENDER_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}
