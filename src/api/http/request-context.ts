import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import type { JobRecord } from '../../shared/jobs/job-record.ts';
import type { ApiServices } from '../services/api-services.ts';

export function baseUrl(services: ApiServices, request: FastifyRequest): string {
  return services.publicUrl ?? `${request.protocol}://${request.host}`;
}

/** A job of the request's tenant; 404 whether it is missing or another tenant's, so ids leak nothing. */
export async function ownJob(services: ApiServices, request: FastifyRequest, id: string): Promise<JobRecord> {
  const record = await services.records.get(id);
  if (!record || record.tenant !== request.tenant) {
    throw new ProblemError('not_found', 'Job not found', `There is no job ${id}.`);
  }
  return record;
}
