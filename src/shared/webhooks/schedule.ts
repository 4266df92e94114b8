/**
 * When a webhook delivery is tried again. The schedule lists the delay before
 * each attempt, in seconds (the first, usually 0, before the first attempt);
 * each delay gets up to ±10% jitter so that a receiver coming back is not hit
 * by every waiting delivery in the same second.
 */
export const DEFAULT_RETRY_SCHEDULE_S = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400] as const;

/** The longest Retry-After honoured; a receiver asking for more gets the schedule's next delay or a day. */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

export function jittered(delayMs: number, random: () => number = Math.random): number {
  if (delayMs <= 0) return 0;
  return Math.round(delayMs * (0.9 + 0.2 * random()));
}

/** The delay before attempt `attempt` (1-based) of the schedule, jittered; undefined after its last. */
export function scheduledDelayMs(schedule: readonly number[], attempt: number, random: () => number = Math.random): number | undefined {
  const seconds = schedule[attempt - 1];
  return seconds === undefined ? undefined : jittered(seconds * 1000, random);
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS);
}
