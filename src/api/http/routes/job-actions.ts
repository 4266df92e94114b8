import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { jobView } from '../../../shared/jobs/job-view.ts';
import { expiredProblem } from '../problems.ts';
import { cancelJob } from '../../services/job-cancel.ts';
import { baseUrl, ownJob } from '../request-context.ts';
import { jobParamsSchema, jobSchema, problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { enqueueProblems, problems } from './jobs.ts';

/** Cancel and retry: status changes a client asks for. */
export const jobActionRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.post('/v1/jobs/:id/cancel', {
    schema: {
      summary: 'Cancel a queued or running job',
      operationId: 'cancelJob',
      description: 'A running job is stopped where it is (its backend render is canceled too). 409 when the job has already ended.',
      params: jobParamsSchema,
      response: { 200: jobSchema, ...problems },
    },
    handler: async (request) => {
      const record = await ownJob(services, request, request.params.id);
      if (!(await cancelJob(services, record.id))) {
        const now = await ownJob(services, request, record.id);
        throw new ProblemError('job_finished', 'Job already ended', `Job ${record.id} is ${now.status}; only queued or running jobs can be canceled.`);
      }
      return jobView(await ownJob(services, request, record.id), baseUrl(services, request));
    },
  });

  app.post('/v1/jobs/:id/retry', {
    schema: {
      summary: 'Run a failed or canceled job again',
      operationId: 'retryJob',
      description: 'The job resumes from its last checkpoint (work already done at the backend is not repeated). 409 unless the job failed or was canceled; 410 once retention has deleted its files.',
      params: jobParamsSchema,
      response: { 200: jobSchema, ...enqueueProblems, 410: problemReply('The job\'s files were deleted RETENTION_DAYS after it finished (`expired`)') },
    },
    handler: async (request) => {
      const record = await ownJob(services, request, request.params.id);
      if (record.expiredAt) throw expiredProblem(record.id, record.expiredAt);
      await services.submission.checkQueueRoom();
      const previous = await services.queue.getJob(record.id);
      if (previous && (await previous.isActive())) {
        throw new ProblemError('not_retryable', 'Job still stopping', `Job ${record.id} is still being stopped by its worker; retry in a moment.`);
      }
      const requeued = await services.records.transition(record.id, 'retry', {}, undefined, { tenant: record.tenant });
      if (!requeued) {
        throw new ProblemError('not_retryable', 'Job cannot be retried', `Job ${record.id} is ${record.status}; only failed or canceled jobs can be retried.`);
      }
      await previous?.remove();
      // the retry took a new rank among its tenant's queued jobs (transition), as a new job would
      const queued = await ownJob(services, request, record.id);
      await services.queue.add('render', { jobId: record.id }, { jobId: record.id, ...(queued.queuePriority ? { priority: queued.queuePriority } : {}) });
      return jobView(await ownJob(services, request, record.id), baseUrl(services, request));
    },
  });
};
