/**
 * What the API answered when a call did not succeed: its RFC 9457 problem
 * (title, detail, code), or what could be read of a reply that was not one.
 */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly code: string,
  ) {
    super(`${title}: ${detail}`);
  }

  /** Reads a failed reply's body into a problem, whatever it holds. */
  static fromReply(status: number, body: string): ApiProblem {
    try {
      const problem = JSON.parse(body) as { title?: unknown; detail?: unknown; code?: unknown };
      if (typeof problem.title === 'string') {
        return new ApiProblem(status, problem.title, typeof problem.detail === 'string' ? problem.detail : '', typeof problem.code === 'string' ? problem.code : '');
      }
    } catch {
      // not JSON: a proxy's page, say; show its start
    }
    return new ApiProblem(status, `HTTP ${status}`, body.trim().slice(0, 300) || 'the reply had no body', '');
  }
}
