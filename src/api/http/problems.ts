import type { FastifyReply } from 'fastify';
import { problemStatus, type ProblemCode } from '../../shared/errors/error-codes.ts';
import { ProblemError } from '../../shared/errors/problem-error.ts';

/** RFC 9457 problems of the API: the fields every one has, how it is sent, and the ones built in more than one place. */
export interface ProblemFields {
  code: ProblemCode;
  title: string;
  detail: string;
}

/** 410 for what needs the files of a job whose files retention deleted (RETENTION_DAYS after it finished). */
export function expiredProblem(jobId: string, expiredAt: string): ProblemError {
  return new ProblemError('expired', 'Files deleted', `The files of job ${jobId} were deleted at ${expiredAt}, when its retention period ended.`);
}

/** The `type` URI of a problem: its code's entry in docs/errors.md. */
export function problemType(code: ProblemCode): string {
  return `https://github.com/i2v-dev/i2v/blob/main/docs/errors.md#${code}`;
}

/** Sends a problem with its code's status; `status` only for an error whose status the framework chose (plugins/problem.ts). */
export function sendProblem(reply: FastifyReply, problem: ProblemFields & Record<string, unknown>, status = problemStatus(problem.code)): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: problemType(problem.code), instance: reply.request.url, status, ...problem });
}

/** The body of a problem written outside Fastify (straight to a response or a socket). */
export function problemBody(problem: ProblemFields): { status: number; text: string } {
  const status = problemStatus(problem.code);
  return { status, text: JSON.stringify({ type: problemType(problem.code), status, ...problem }) };
}

const MALFORMED_MULTIPART = /unexpected end of multipart data|Boundary not found|Boundary required|The needle/i;

/** A multipart body that cannot be parsed: the client's fault, not the server's. */
export function malformedMultipart(error: Error): ProblemError | undefined {
  if (!MALFORMED_MULTIPART.test(error.message ?? '')) return undefined;
  return new ProblemError('bad_request', 'Bad request', `The multipart body is malformed: ${error.message}.`);
}
