import type { BackendClient } from '../shared/backend/client.ts';
import { BackendError } from '../shared/errors.ts';
import type { BackendTokens } from './backend-token.ts';
import type { BackendCall } from './stage-context.ts';

/** Runs a backend call with the fleet's token; on 1001 it gets a fresh token and tries once more. */
export function createBackendCall(clientWithToken: (token: string) => BackendClient, tokens: BackendTokens): BackendCall {
  return async (call) => {
    const token = await tokens.current();
    try {
      return await call(clientWithToken(token));
    } catch (error) {
      if (!(error instanceof BackendError) || error.code !== 1001) throw error;
      return call(clientWithToken(await tokens.refresh(token)));
    }
  };
}
