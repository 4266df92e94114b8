import { describe, expect, it } from 'vitest';
import { BackendError, type TransportCode } from '../../src/shared/errors/backend-error.ts';
import { ERROR_CODES, jobRetryable, type JobErrorCode } from '../../src/shared/errors/error-codes.ts';
import { JobError } from '../../src/shared/errors/job-error.ts';
import { classifyError } from '../../src/workers/classify.ts';

const context = { registrationUrl: 'https://backend.example/register', retryAfterMaxS: 60 };
const BACKEND_CODES: (number | TransportCode)[] = [1001, 1002, 2001, 400, 402, 404, 429, 4001, 4002, 500, 502, 503, 'network', 'timeout', 'bad_reply', 'stream', 'aborted'];

describe('classifyError and the error table', () => {
  it('turns every backend failure into a job error of the table, failing the job exactly when the table says it is not retryable', () => {
    for (const code of BACKEND_CODES) {
      const outcome = classifyError(new BackendError(code, `call: ${code}`, { endpoint: 'run_sse', httpStatus: typeof code === 'number' ? code : undefined }), context);
      const { error } = outcome;
      expect(ERROR_CODES, `${code}`).toHaveProperty([error.code, 'job']);
      expect(error.retryable, `${code} → ${error.code}`).toBe(jobRetryable(error.code as JobErrorCode));
      expect(outcome.action === 'fail', `${code} → ${outcome.action}`).toBe(!error.retryable);
    }
  });

  it('an error that is not the backend\'s is `internal`, as retryable as the table says, with its one message', () => {
    const { action, error } = classifyError(new Error('/var/lib/i2v: ENOSPC'), context);
    expect(error.toInfo()).toEqual({ code: 'internal', message: ERROR_CODES.internal.job.message, retryable: jobRetryable('internal') });
    expect(action).toBe(error.retryable ? 'retry' : 'fail');
  });

  it('a job error from a stage keeps its own flag: only the retryable ones are tried again', () => {
    expect(classifyError(new JobError('fetch_failed', 'HTTP 503', true), context).action).toBe('retry');
    expect(classifyError(new JobError('fetch_failed', 'HTTP 404', false), context).action).toBe('fail');
    expect(classifyError(new JobError('instruction_uncertain', 'charged, not landed'), context).action).toBe('fail');
  });
});
