import { out } from '../output.ts';
import { ApiClient, clientSettings } from './api-client.ts';
import { ApiProblem } from './api-problem.ts';

/**
 * Wraps a client command's action: it gets a client for I2V_URL/I2V_API_KEY;
 * a failure prints the API's problem (title, detail, code) or the error's
 * message on stderr and makes the exit code 1.
 */
export function clientAction<A extends unknown[]>(run: (client: ApiClient, ...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await run(new ApiClient(clientSettings()), ...args);
    } catch (error) {
      if (error instanceof ApiProblem) {
        out.error(`${error.title}: ${error.detail}${error.code ? ` (${error.code})` : ''}`);
      } else {
        out.error(`error: ${(error as Error).message}`);
      }
      process.exitCode = 1;
    }
  };
}
