import type { BackendClient } from '../shared/backend/client.ts';
import { BackendError } from '../shared/errors.ts';
import type { Preset } from '../shared/presets.ts';
import type { BackendTokens } from './backend-token.ts';
import type { BackendCall } from './stage-context.ts';

/**
 * Backend calls for a job's preset (its attribution headers), made with the
 * fleet's token; on 1001 a fresh token is fetched and the call tried once more.
 */
export function createBackendCalls(clientFor: (preset: Preset) => BackendClient, tokens: BackendTokens): (preset: Preset) => BackendCall {
  return (preset) => async (call) => {
    const client = clientFor(preset);
    const token = await tokens.current();
    try {
      return await call(client.withToken(token));
    } catch (error) {
      if (!(error instanceof BackendError) || error.code !== 1001) throw error;
      return call(client.withToken(await tokens.refresh(token)));
    }
  };
}
