/** Query parameters that make a URL a credential: signed URLs (S3, GCS) and tokens or keys carried in links. */
const SECRET_QUERY =
  /([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|signature|sig|token|access_token|api_key|apikey|key|secret|password)=)[^&#\s"'<>]*/gi;
/** Credentials in an Authorization-like string. */
const AUTH_SCHEME = /\b((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+/g;
/** Standard Webhooks signing secrets. */
const WEBHOOK_SECRET = /\bwhsec_[A-Za-z0-9+/=]+/g;

const CENSOR = '[redacted]';
const MAX_DEPTH = 4;

/** The text with the values of secret query parameters, bearer credentials and webhook secrets replaced. */
export function redactText(text: string): string {
  if (!text.includes('=') && !/Bearer|Basic|whsec_/.test(text)) return text;
  return text.replace(SECRET_QUERY, `$1${CENSOR}`).replace(AUTH_SCHEME, `$1${CENSOR}`).replace(WEBHOOK_SECRET, `whsec_${CENSOR}`);
}

/**
 * Applies redactText to every string in plain objects and arrays, a few
 * levels deep. Class instances are left alone unless `anyObject` (a
 * serialized error, whose prototype is pino's), which are then copied as
 * plain objects.
 */
export function redactStrings<T>(value: T, anyObject = false, depth = 0): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => redactStrings(item, anyObject, depth + 1));
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (!anyObject && Object.getPrototypeOf(value) !== Object.prototype) return value;
  const entries = Object.entries(value);
  const redacted = entries.map(([key, item]) => [key, redactStrings(item, anyObject, depth + 1)] as const);
  return (redacted.some(([, item], i) => item !== entries[i]?.[1]) ? Object.fromEntries(redacted) : value) as T;
}
