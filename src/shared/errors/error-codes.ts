/**
 * Every stable error `code` a client can meet, and what it means: for a job
 * error (`job.error`) whether `POST /v1/jobs/{id}/retry` may well succeed as
 * it is; for an API problem (problem+json) its HTTP status. A code can be
 * both (`image_too_large`, `internal`). JobError and ProblemError take their
 * codes, flags and statuses from here; docs/errors.md's two tables are
 * written from it (scripts/write-errors-doc.ts) and tested against it.
 */

/** What a tenant reads for `internal`: the cause (a path, a Redis or S3 message, a stack) stays in the worker's log. */
export const INTERNAL_ERROR_MESSAGE = "The worker hit an unexpected error (the details are in its log). Retry the job to continue from its last checkpoint.";

export interface ProblemEntry {
  status: number;
  /** docs/errors.md: when the API answers it */
  when: string;
}

export interface JobErrorEntry {
  /**
   * `perCall`: the place that raises it decides (the text says how, for the
   * doc), e.g. a download that got a 5xx may work next time, a 404 will not.
   */
  retryable: boolean | { perCall: string };
  /** docs/errors.md: what happened */
  what: string;
  /** the one message a tenant sees, whatever the error said */
  message?: string;
}

export interface ErrorCodeEntry {
  problem?: ProblemEntry;
  job?: JobErrorEntry;
}

export const ERROR_CODES = {
  url_forbidden: {
    job: { retryable: false, what: 'an image or audio URL points at a private, loopback or metadata address, or is not http(s)' },
  },
  fetch_failed: {
    job: { retryable: { perCall: 'yes for 5xx/429/network' }, what: 'an image or audio URL could not be downloaded (the message has the HTTP status or network error)' },
  },
  unsupported_media: {
    job: { retryable: false, what: 'a file is not an image, short video or audio the backend accepts (4001); a downloaded file is not what its role needs (a picture, music) or not what its `Content-Type` says' },
  },
  image_too_large: {
    problem: { status: 422, when: 'a picture declaring more than `MAX_IMAGE_PIXELS` pixels' },
    job: { retryable: false, what: 'a picture declares more than `MAX_IMAGE_PIXELS` pixels (checked from its header before anything decodes it: downloads, and uploads whose size the API could not read in time)' },
  },
  invalid_media: {
    job: { retryable: false, what: "a picture (or a clip's first frame) is truncated or corrupt: the decoder reported an error, or took longer than 60 s" },
  },
  media_too_large: {
    job: { retryable: false, what: 'a file is larger than the backend or `MAX_UPLOAD_MB` allows (4002)' },
  },
  backend_out_of_credits: {
    job: { retryable: false, what: "the backend's account has no credits (2001); with an anonymous token the message has the registration link" },
  },
  backend_plan_blocked: {
    job: { retryable: false, what: "the backend's plan does not allow export (402): a subscription limit, not credits" },
  },
  engine_capability: {
    job: { retryable: false, what: 'a generative preset (`diffusion`, `pixverse`) on the embedded engine; set `BACKEND_URL` to the cloud backend' },
  },
  instruction_not_applied: {
    job: { retryable: false, what: 'the backend answered the instruction but its session shows no new exportable timeline (a track with segments), even after reading it again for `INSTRUCTION_LANDING_WAIT_S` when the reply had no text' },
  },
  revision_wrong_timeline: {
    job: { retryable: false, what: "the backend applied a revision to another timeline than its parent's (it did not restore the parent's draft from `state_delta`); nothing was rendered" },
  },
  instruction_uncertain: {
    job: { retryable: false, what: 'the backend charged for the instruction but its edit never appeared within `INSTRUCTION_LANDING_WAIT_S`; it is never sent twice for one job (the backend charges per message), so a retry only looks for the edit again: submit a new job to pay for a new instruction' },
  },
  render_failed: {
    job: { retryable: { perCall: 'no once its replacement failed too; yes while the replacement is still to come, and when a render came back unusable (no output URL, or not a playable video: read again)' }, what: "the backend's render failed twice (one replacement render is tried)" },
  },
  outputs_unsupported: {
    job: { retryable: false, what: "the job asked for renditions (`options.outputs`) and the backend's finished render did not list a file for each of them: the backend makes one video per render. Submit one job per rendition to such a backend" },
  },
  render_lost: {
    job: { retryable: { perCall: 'no on the second loss; yes on the first when its MP4 was gone (exported again)' }, what: "the backend lost the job's render twice (404 on poll, or its MP4 gone before the download: it restarted or expired it); the first loss is exported again from the saved draft. A retry exports it once more" },
  },
  render_timeout: {
    job: { retryable: { perCall: 'no once its replacement timed out too; yes while the replacement is still to come' }, what: "the backend's render was still not done `RENDER_TIMEOUT_S` after it started, twice (the late render is canceled and one replacement tried)" },
  },
  job_timeout: {
    job: { retryable: false, what: 'the job had not finished `JOB_TIMEOUT_S` after it first started (attempts, backoff and lost workers included); its render is canceled. `POST /v1/jobs/{id}/retry` gives it a new deadline and resumes from its checkpoint' },
  },
  backend_unavailable: {
    job: { retryable: true, what: "the backend kept failing (network, timeouts, 5xx) through every attempt (`JOB_ATTEMPTS`); the message names the call and how it failed (not reached, no answer in time, an unreadable reply, the HTTP status), never the backend's address or error text, which the worker logs" },
  },
  backend_rate_limited: {
    job: { retryable: true, what: 'shown while the queue waits out a 429; the job fails with it once 429s and other failures have used up `JOB_ATTEMPTS`' },
  },
  backend_session_lost: {
    job: { retryable: true, what: "shown while a job whose session the backend lost (1002) is redone from upload in a new session; the job fails with it only if that used up `JOB_ATTEMPTS`" },
  },
  interrupted: {
    job: { retryable: true, what: "a backend call was aborted (the worker was shutting down); shown while the attempt is tried again, and the job fails with it only if that used up `JOB_ATTEMPTS`" },
  },
  input_missing: {
    job: { retryable: false, what: 'a stored input (an upload) was deleted before the job ran, by retention or by hand; send the job again with the file' },
  },
  worker_lost: {
    job: { retryable: true, what: 'the worker running the job vanished and the job was not resumed (watchdog)' },
  },
  internal: {
    problem: { status: 500, when: "a bug; the details are in the server's log, never in the reply" },
    job: { retryable: true, message: INTERNAL_ERROR_MESSAGE, what: "an unexpected error in the worker (storage, Redis, a bug); the message is always the same, the cause (paths, Redis or S3 messages, the stack) is in the worker's log with the job id" },
  },
  validation_failed: {
    problem: { status: 400, when: 'the body, a header or a query is invalid; `errors` lists each field path and what is wrong' },
  },
  bad_request: {
    problem: { status: 400, when: "a malformed request: bad JSON framing, a malformed multipart body, HTTP that Node's parser refuses, a path that cannot be decoded" },
  },
  unauthorized: {
    problem: { status: 401, when: 'no API key, or an unknown one (`WWW-Authenticate: Bearer`)' },
  },
  not_found: {
    problem: { status: 404, when: "no such route, or no such job / upload for this tenant (another tenant's ids are 404 too)" },
  },
  method_not_allowed: {
    problem: { status: 405, when: '`CONNECT` (the connection is then closed)' },
  },
  request_timeout: {
    problem: { status: 408, when: 'the headers took longer than `HTTP_HEADERS_TIMEOUT_S`, or the request longer than `HTTP_REQUEST_TIMEOUT_S` (the connection is then closed)' },
  },
  idempotency_conflict: {
    problem: { status: 409, when: 'an `Idempotency-Key` reused with a different body (or its first request still running)' },
  },
  job_finished: {
    problem: { status: 409, when: 'cancel of a job that has already ended' },
  },
  not_retryable: {
    problem: { status: 409, when: 'retry of a job that has not failed or been canceled' },
  },
  not_ready: {
    problem: { status: 409, when: 'the video or poster of a job that has not succeeded' },
  },
  not_revisable: {
    problem: { status: 409, when: 'a revision of a job that has not succeeded (or kept no session or instruction to revise)' },
  },
  expired: {
    problem: { status: 410, when: 'the video or poster, a retry or a revision of a job whose files retention deleted (`RETENTION_DAYS` after it ended; `expired_at` on the job)' },
  },
  template_limit: {
    problem: { status: 409, when: 'a new template past `TEMPLATES_MAX_PER_TENANT` (delete one first), or a new version of a template that already has 100' },
  },
  placeholder_missing: {
    problem: { status: 422, when: 'a job from a template whose `merge` gives no value for some of its `{{placeholders}}` (named in `placeholders`)' },
  },
  placeholder_unknown: {
    problem: { status: 422, when: 'a job from a template whose `merge` names placeholders the template does not use (named in `placeholders`)' },
  },
  template_rows_invalid: {
    problem: { status: 422, when: 'a batch from a template with rows that do not make valid jobs; `rows` lists each bad row (numbered from 1) with its problem. Nothing was enqueued' },
  },
  csv_invalid: {
    problem: { status: 422, when: 'a batch from a template whose CSV cannot be read, or whose header has a column that is no placeholder of the template or lacks one of them. Nothing was enqueued' },
  },
  payload_too_large: {
    problem: { status: 413, when: "a file over `MAX_UPLOAD_MB`, a body over the route's limit (a job 1 MB, a batch 8 MB, a route without a body 16 KB), too many parts" },
  },
  uri_too_long: {
    problem: { status: 414, when: 'a path segment longer than any id' },
  },
  unsupported_media_type: {
    problem: { status: 415, when: 'a file that is not what it may be (judged by content), or whose name or declared type says it is another format than its content; a body type the route does not take' },
  },
  range_not_satisfiable: {
    problem: { status: 416, when: 'a `Range` outside the file' },
  },
  expectation_failed: {
    problem: { status: 417, when: 'an `Expect` header other than `100-continue`' },
  },
  platform_constraint: {
    problem: {
      status: 422,
      when: "options that break the rules of their `options.platform` (docs/platforms.md): a duration outside the platform's range, an aspect ratio, resolution or frame rate it does not take; `rule`, `value` and `limit` name the first broken rule, `violations` lists them all, each with its `source`. Nothing was stored",
    },
  },
  invalid_outputs: {
    problem: { status: 422, when: '`options.outputs` names the same rendition (aspect ratio, resolution and format, after the job\'s own fill the unset ones) twice; `duplicates` lists the indexes. Nothing was stored' },
  },
  rate_limited: {
    problem: { status: 429, when: 'over `RATE_LIMIT_PER_MINUTE` for this API key; see `Retry-After`' },
  },
  tenant_queue_full: {
    problem: { status: 429, when: 'the tenant already has `TENANT_MAX_QUEUED` jobs queued (a batch counts all its items); see `Retry-After`. Nothing was stored' },
  },
  headers_too_large: {
    problem: { status: 431, when: "request headers over Node's limit (16 KB; the connection is then closed)" },
  },
  credits_unknown: {
    problem: { status: 503, when: '`GET /v1/credits` before any worker has read the backend\'s balance; try again shortly' },
  },
  queue_full: {
    problem: { status: 503, when: 'the render queue holds `QUEUE_MAX_WAITING` waiting jobs (a batch counts all its items); see `Retry-After`. Nothing was stored' },
  },
  store_unavailable: {
    problem: { status: 503, when: 'Redis does not answer within `REDIS_TIMEOUT_S` (down, frozen, restarting, loading its data); see `Retry-After`. Nothing has to be restarted: the API and workers carry on once Redis is back. A `POST` answered this way may or may not have been stored: send it again with the same `Idempotency-Key`' },
  },
} as const satisfies Record<string, ErrorCodeEntry>;

type Codes = typeof ERROR_CODES;
export type ErrorCode = keyof Codes;
export type ProblemCode = { [C in ErrorCode]: Codes[C] extends { problem: ProblemEntry } ? C : never }[ErrorCode];
export type JobErrorCode = { [C in ErrorCode]: Codes[C] extends { job: JobErrorEntry } ? C : never }[ErrorCode];
/** Job error codes whose retryable flag is the table's. */
export type FixedRetryCode = { [C in JobErrorCode]: Codes[C] extends { job: { retryable: boolean } } ? C : never }[JobErrorCode];
/** Job error codes whose retryable flag the place that raises them decides. */
export type PerCallRetryCode = Exclude<JobErrorCode, FixedRetryCode>;

const entry = (code: string): ErrorCodeEntry | undefined => (ERROR_CODES as Record<string, ErrorCodeEntry>)[code];

export function problemStatus(code: ProblemCode): number {
  return (entry(code)?.problem as ProblemEntry).status;
}

/** The table's retryable flag of a job error code, or `perCall`. */
export function jobRetryable(code: JobErrorCode): boolean | 'perCall' {
  const { retryable } = entry(code)?.job as JobErrorEntry;
  return typeof retryable === 'boolean' ? retryable : 'perCall';
}

/** The message a tenant reads for a stored job error: the code's own when it has one. */
export function tenantMessage(code: string, message: string): string {
  return entry(code)?.job?.message ?? message;
}
