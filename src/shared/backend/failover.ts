import { BackendError } from '../errors/backend-error.ts';
import { metrics } from '../infra/metrics/registry.ts';
import { isConnectFailure } from '../net/network-reader.ts';
import { displayUrl, type BackendUrls } from './backend-urls.ts';
import type { BackendEndpoint } from './endpoints.ts';
import { readText, throwIfError, type OpenReply } from './transport.ts';

/** Replies of a gateway or load balancer whose backend did not take the request. */
const GATEWAY_STATUSES = new Set([502, 503, 504]);

export interface FailoverCall {
  /**
   * A call that may be sent twice (a GET): also moved on after the
   * connection was lost or timed out once the request was out. Any other
   * call moves on only when it cannot have reached the backend (no
   * connection, or a gateway's 502/503/504), so that a charged /run_sse is
   * never sent twice and a lost one keeps meaning "maybe sent".
   */
  idempotent: boolean;
  /** the URL to try first when it answers (a link the backend handed out) */
  preferred?: URL;
}

type Verdict = 'answered' | 'down, not sent' | 'down, maybe sent' | 'unknown';

function verdictOf(error: unknown): Verdict {
  if (!(error instanceof BackendError)) return 'unknown';
  if (error.code === 'aborted') return 'unknown';
  if (error.detail.httpStatus !== undefined && GATEWAY_STATUSES.has(error.detail.httpStatus) && error.code === error.detail.httpStatus) return 'down, not sent';
  if (error.code === 'network' || error.code === 'timeout' || error.code === 'stream') return isConnectFailure(error) ? 'down, not sent' : 'down, maybe sent';
  return 'answered';
}

/**
 * Runs `attempt` on the backend's URLs in the order `urls.plan` gives, until
 * one answers; the error of the last URL tried when none does, so with every
 * URL down a call fails as it would with one. Each URL is tried at most once.
 */
export async function withFailover<T>(urls: BackendUrls, call: FailoverCall, attempt: (base: URL) => Promise<T>): Promise<T> {
  const plan = urls.plan(call.preferred);
  for (const [i, base] of plan.entries()) {
    urls.trying(base);
    try {
      const result = await attempt(base);
      urls.answered(base);
      return result;
    } catch (error) {
      const verdict = verdictOf(error);
      if (verdict === 'answered') urls.answered(base);
      else if (verdict === 'unknown') urls.released(base);
      else urls.failed(base);
      const next = verdict === 'down, not sent' || (verdict === 'down, maybe sent' && call.idempotent);
      if (!next || i === plan.length - 1) throw error;
      metrics.backendFailovers.inc({ url: displayUrl(base) });
    }
  }
  throw new Error('no backend URL to try');
}

/** Throws the error of a gateway's 502/503/504 reply (read here), so that `withFailover` moves on; other replies are the caller's. */
export async function throwIfGatewayFailure(reply: OpenReply, endpoint: BackendEndpoint): Promise<void> {
  if (GATEWAY_STATUSES.has(reply.statusCode)) throwIfError(reply, endpoint, await readText(reply, endpoint));
}
