import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { problemReply } from '../schemas/jobs.ts';
import { problems } from './jobs.ts';

const creditsSchema = z
  .object({
    available: z.number(),
    frozen: z.number(),
    total: z.number(),
    checked_at: z.string().describe('when a worker last read the balance (every CREDITS_REFRESH_S)'),
  })
  .meta({ id: 'Credits' });

export const creditRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.get('/v1/credits', {
    schema: {
      summary: "The render backend's credit balance for this deployment's token",
      operationId: 'getCredits',
      description: 'As the workers last read it from the backend; 503 until a worker has.',
      response: { 200: creditsSchema, ...problems, 503: problemReply('No worker has read the balance yet (`credits_unknown`), or Redis does not answer (`store_unavailable`)') },
    },
    handler: async () => {
      const snapshot = await services.credits.read();
      if (!snapshot) throw new ProblemError('credits_unknown', 'Balance not known yet', 'No worker has read the backend balance yet; try again shortly.');
      return snapshot;
    },
  });
};
