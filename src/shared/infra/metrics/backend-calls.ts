import type { BackendEndpoint } from '../../backend/endpoints.ts';
import { BackendError } from '../../errors/backend-error.ts';
import { metrics } from './registry.ts';

function codeOf(error: unknown): string {
  return error instanceof BackendError ? String(error.code) : 'error';
}

/** Counts a backend call once it has settled: code 0 on success, else its error's code. */
export async function recordBackendCall<T>(endpoint: BackendEndpoint, call: Promise<T>): Promise<T> {
  try {
    const result = await call;
    metrics.backendRequests.inc({ endpoint, code: '0' });
    return result;
  } catch (error) {
    metrics.backendRequests.inc({ endpoint, code: codeOf(error) });
    throw error;
  }
}

/** Counts a streamed backend call once the stream ends, fails, or its reader stops early (a success). */
export async function* recordBackendStream<T>(endpoint: BackendEndpoint, events: AsyncGenerator<T>): AsyncGenerator<T> {
  let code = '0';
  try {
    yield* events;
  } catch (error) {
    code = codeOf(error);
    throw error;
  } finally {
    metrics.backendRequests.inc({ endpoint, code });
  }
}
