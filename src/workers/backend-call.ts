import type { BackendClient } from '../shared/backend/client.ts';
import { BackendError } from '../shared/errors/backend-error.ts';
import type { BackendTokenKind } from '../shared/jobs/job-record.ts';
import type { Preset } from '../shared/jobs/presets.ts';
import type { BackendTokens } from './backend-token.ts';
import type { BackendCall } from './stage-context.ts';

/**
 * Backend calls for a job's preset (its attribution headers), made with the
 * fleet's token, or with the kind `pinned` names (the job's session's); on
 * 1001 a fresh token is fetched and the call tried once more. A success tells
 * the tokens that NEMO_TOKEN, tried again after a rejection, works.
 */
export function createBackendCalls(
  clientFor: (preset: Preset) => BackendClient,
  tokens: BackendTokens,
): (preset: Preset, pinned?: () => BackendTokenKind | undefined) => BackendCall {
  return (preset, pinned = () => undefined) =>
    async (call) => {
      const client = clientFor(preset);
      const token = await tokens.current(pinned());
      try {
        const result = await call(client.withToken(token.token), token.kind);
        await tokens.accepted(token);
        return result;
      } catch (error) {
        if (!(error instanceof BackendError) || error.code !== 1001) throw error;
        const fresh = await tokens.refresh(token);
        return call(client.withToken(fresh.token), fresh.kind);
      }
    };
}
