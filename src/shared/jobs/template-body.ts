import { ProblemError } from '../errors/problem-error.ts';

/**
 * A template is a job body whose strings may hold `{{placeholders}}`.
 * Merging works on the parsed body, never on its JSON text: a merged value
 * is data (quotes, braces, backslashes stay what they are) and is never
 * looked at for placeholders again.
 */

/** A placeholder's name: a letter or `_`, then letters, digits, `_`, `.` or `-` (64 at most). */
export const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** `{{name}}`, spaces inside the braces allowed; group 1 is what is between them. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
/** A string that is one placeholder and nothing else takes the merged value as it is (a number stays a number). */
const WHOLE_PLACEHOLDER = /^\{\{\s*([^{}]*?)\s*\}\}$/;

/** A value merged into a template: text, or a number or boolean for a field that takes one. */
export type MergeValue = string | number | boolean;
export type Merge = Readonly<Record<string, MergeValue>>;

/** Every string of a parsed JSON value, with where it is (`options.text.0.text`). */
function* stringsOf(value: unknown, path: string[] = []): Generator<{ text: string; path: string[] }> {
  if (typeof value === 'string') yield { text: value, path };
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* stringsOf(item, [...path, String(i)]);
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* stringsOf(item, [...path, key]);
}

/** The placeholders a template body uses, each once, sorted. */
export function templatePlaceholders(body: unknown): string[] {
  const names = new Set<string>();
  for (const { text } of stringsOf(body)) for (const match of text.matchAll(PLACEHOLDER)) names.add((match[1] ?? '').trim());
  return [...names].sort();
}

/** `{{…}}` whose inside is not a placeholder name (`{{image url}}`), with where they are: a template with one is refused when saved. */
export function malformedPlaceholders(body: unknown): { path: string; placeholder: string }[] {
  const found: { path: string; placeholder: string }[] = [];
  for (const { text, path } of stringsOf(body)) {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!PLACEHOLDER_NAME.test((match[1] ?? '').trim())) found.push({ path: path.join('.'), placeholder: match[0] });
    }
  }
  return found;
}

/** Why a merge does not fit a template: placeholders it leaves without a value, or names the template does not use. */
export interface MergeMismatch {
  code: 'placeholder_missing' | 'placeholder_unknown';
  placeholders: string[];
  detail: string;
}

const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

/** The first mismatch between a template's placeholders and a merge's names (missing ones first), or undefined when they fit. */
export function mergeMismatch(placeholders: readonly string[], merge: Merge): MergeMismatch | undefined {
  const missing = placeholders.filter((name) => !Object.hasOwn(merge, name));
  if (missing.length > 0) return { code: 'placeholder_missing', placeholders: missing, detail: `no value for the template's placeholder(s) ${quoted(missing)}` };
  const used = new Set(placeholders);
  const unknown = Object.keys(merge).filter((name) => !used.has(name));
  if (unknown.length > 0) return { code: 'placeholder_unknown', placeholders: unknown, detail: `the template has no placeholder(s) ${quoted(unknown)}; it has ${placeholders.length > 0 ? quoted(placeholders) : 'none'}` };
  return undefined;
}

function substitute(value: unknown, merge: Merge): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole?.[1] !== undefined && Object.hasOwn(merge, whole[1])) return merge[whole[1]];
    return value.replace(PLACEHOLDER, (match, name: string) => (Object.hasOwn(merge, name.trim()) ? String(merge[name.trim()]) : match));
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, merge));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, merge)]));
  return value;
}

/**
 * The job body a template and a merge make: every placeholder replaced by
 * its value (a string that is one placeholder alone takes the value as it is,
 * so `"{{duration}}"` can become the number 4). Pure; throws a 422
 * `placeholder_missing` / `placeholder_unknown` ProblemError naming the
 * placeholders when the merge does not fit. The result still has to be
 * validated as a job body.
 */
export function resolveTemplateBody(body: Readonly<Record<string, unknown>>, merge: Merge): Record<string, unknown> {
  const mismatch = mergeMismatch(templatePlaceholders(body), merge);
  if (mismatch) throw new ProblemError(mismatch.code, mismatch.code === 'placeholder_missing' ? 'Placeholder missing' : 'Unknown placeholder', mismatch.detail, { placeholders: mismatch.placeholders });
  return substitute(body, merge) as Record<string, unknown>;
}
