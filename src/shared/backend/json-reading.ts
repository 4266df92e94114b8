/**
 * Narrowing helpers for tolerant reply parsing. The backend's documented keys
 * are snake_case, but older servers and the render proxy use camelCase, so a
 * field is looked up under each of its known names.
 */
export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

/** The first of `keys` present (not undefined, not null) in `obj`. */
export function pick(obj: JsonRecord | undefined, ...keys: string[]): unknown {
  if (!obj) return undefined;
  for (const key of keys) {
    const value = obj[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** A string, or a number turned into one (ids sometimes arrive as numbers). */
export function pickString(obj: JsonRecord | undefined, ...keys: string[]): string | undefined {
  const value = pick(obj, ...keys);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A finite number, or a numeric string turned into one. */
export function pickNumber(obj: JsonRecord | undefined, ...keys: string[]): number | undefined {
  const value = pick(obj, ...keys);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** Parses JSON without throwing; `undefined` when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
