import { expect } from 'vitest';
import { BackendError } from '../../../src/shared/errors/backend-error.ts';

/** The BackendError a call ends in; fails the test when it resolves or throws something else. */
export async function failure(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendError);
  return error as BackendError;
}
