import type { Queue } from 'bullmq';
import type { BatchRecords } from '../../shared/jobs/batch-record.ts';
import type { CreditsCache } from '../../shared/backend/credits-cache.ts';
import type { JobRecords } from '../../shared/jobs/job-record.ts';
import type { RenderJobData } from '../../shared/infra/queues.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import type { TokenRejection } from '../../shared/backend/token-rejection.ts';
import type { WebhookParts } from '../../shared/webhooks/setup.ts';
import type { BatchSubmission } from './batch-submission.ts';
import type { JobSubmission } from './job-submission.ts';
import type { JobWatcher } from './job-watcher.ts';
import type { TemplateStore } from './template-store.ts';
import type { UploadStore } from './upload-store.ts';

/** What the routes work with; built once per API process. */
export interface ApiServices {
  records: JobRecords;
  storage: Storage;
  queue: Pick<Queue<RenderJobData>, 'add' | 'getJob'>;
  submission: JobSubmission;
  batches: BatchRecords;
  credits: CreditsCache;
  batchSubmission: BatchSubmission;
  watcher: JobWatcher;
  uploads: UploadStore;
  /** the tenants' job templates (POST /v1/templates) */
  templates: TemplateStore;
  /** secrets, the delivery log and the emitter (cancel events, redelivery); the API only enqueues, workers deliver */
  webhooks: WebhookParts;
  /** jobs ahead of a queued one */
  queuePosition(jobId: string): Promise<number | undefined>;
  /** tells every worker to stop the job if it runs it */
  announceCancel(jobId: string): Promise<void>;
  /** whether Redis and the render backend answer; and whether the backend rejected NEMO_TOKEN (workers use an anonymous token meanwhile) */
  readiness(): Promise<{ redis: boolean; backend: boolean; tokenRejection?: TokenRejection }>;
  maxPixels: number;
  /** base of the URLs in replies; from the request when unset */
  publicUrl?: string;
  /** how often an idle SSE stream sends a keep-alive comment */
  keepAliveMs: number;
}
