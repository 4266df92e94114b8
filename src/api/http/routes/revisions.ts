import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { newId } from '../../../shared/infra/ids.ts';
import { allows } from '../../../shared/jobs/job-lifecycle.ts';
import { jobView } from '../../../shared/jobs/job-view.ts';
import { jobOptionsSchema } from '../../../shared/jobs/job-options.ts';
import { expiredProblem } from '../problems.ts';
import { baseUrl, ownJob } from '../request-context.ts';
import { jobFieldsSchema, jobParamsSchema, jobSchema, MAX_PROMPT_CHARS, problemReply } from '../schemas/jobs.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { enqueueProblems, problems } from './jobs.ts';

const revisionBodySchema = jobFieldsSchema
  .pick({ webhook_url: true, webhook_events: true, metadata: true })
  .extend({
    prompt: z.string().max(MAX_PROMPT_CHARS).default('').describe('What to change, e.g. "make the zoom slower" or "change the text to …"'),
    options: jobOptionsSchema
      .omit({ audio: true, logo: true, cache: true, platform: true })
      .default({})
      .describe("Options to change; the rest stays as it was (the parent's music, logo and platform too: what it changes must fit the parent's `platform`). `text` replaces the parent's captions"),
  })
  .strict()
  .meta({ id: 'CreateRevision' });

/**
 * A revision refines a finished clip: a new job, in the parent's backend
 * session, that edits the parent's draft (restored in the session before its
 * instruction), with its own render and webhooks.
 */
export const revisionRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.post('/v1/jobs/:id/revisions', {
    schema: {
      summary: 'Revise a finished job',
      operationId: 'createRevision',
      description:
        "Only a succeeded job can be revised (410 once retention has deleted its files). The revision edits its parent's timeline, whatever else ran in the session since (a batch's later items, other revisions of the parent). If the backend has lost the session, the revision rebuilds it from the parent's inputs and instructions.",
      params: jobParamsSchema,
      body: revisionBodySchema,
      response: { 202: jobSchema, ...enqueueProblems, 410: problemReply('The job\'s files were deleted RETENTION_DAYS after it finished (`expired`)') },
    },
    handler: async (request, reply) => {
      const parent = await ownJob(services, request, request.params.id);
      if (parent.expiredAt) throw expiredProblem(parent.id, parent.expiredAt);
      const sent = parent.checkpoint.instruction?.text;
      if (!allows('revise', parent.status) || !parent.checkpoint.sessionId || !sent) {
        throw new ProblemError('not_revisable', 'Job cannot be revised', `Job ${parent.id} is ${parent.status}; only a succeeded job can be revised.`);
      }
      const body = request.body;
      // a revision keeps its parent's platform: what it changes must still fit that platform
      services.submission.checkPlatform({ ...body.options, platform: parent.options.platform });
      services.submission.checkOutputs({ ...parent.options, ...body.options });
      const id = newId('job');
      const { record } = await services.submission.submit(
        request.tenant,
        id,
        {
          fields: { ...body, preset: parent.preset, webhook_events: body.webhook_events ?? parent.webhookEvents, webhook_url: body.webhook_url ?? parent.webhookUrl },
          inputs: parent.inputs,
          canonicalBody: '',
        },
        undefined,
        {
          parentId: parent.id,
          lineage: [...(parent.lineage ?? []), sent],
          checkpoint: { sessionId: parent.checkpoint.sessionId, sessionToken: parent.checkpoint.sessionToken, uploaded: parent.checkpoint.uploaded, baseDraft: parent.checkpoint.draft },
        },
      );
      return reply.code(202).header('location', `/v1/jobs/${id}`).send(jobView(record, baseUrl(services, request)));
    },
  });
};
