/** The instruction grammar's vocabulary (grammar.ts): regular-expression pieces, and the text being read (read.ts). */

/** A number as JavaScript prints one (the composer's `String(n)`), exponent included. */
export const NUMBER = String.raw`\d+(?:\.\d+)?(?:e[-+]?\d+)?`;

/** A number as people write one. */
export const PLAIN_NUMBER = String.raw`\d+(?:\.\d+)?`;

/** A CSS hex colour. */
export const HEX = '#(?:[0-9a-f]{6}|[0-9a-f]{3})\\b';

/** "s", "sec", "secs", "second", "seconds" */
export const SECONDS_UNIT = String.raw`(?:s|secs?|seconds?)\b`;

const QUOTE_FORMS = [String.raw`"(?:[^"\\]|\\[^])*"`, '“[^”]*”', '「[^」]*」', '『[^』]*』'];

/** One quoted text, as a group: a JSON string literal, or text in curly or corner quotes. */
export const DOUBLE_QUOTED = `(${QUOTE_FORMS.join('|')})`;

/** The same or text in single quotes: only where a caption word says a text follows (else "don't … it's" would count). */
export const QUOTED = `(${[...QUOTE_FORMS, "'[^']*'"].join('|')})`;

/** The text inside a `QUOTED` match; a double-quoted one is read as JSON when it is valid JSON. */
export function unquote(token: string): string {
  if (token.startsWith('"')) {
    try {
      return JSON.parse(token) as string;
    } catch {
      // a person's quotes, not a JSON literal
    }
  }
  return token.slice(1, -1);
}

/** An alternation of literal values, for a capture group. */
export function alternatives(values: readonly (string | number)[]): string {
  return values.map((value) => String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** The value in `values` that `found` names, whatever its case. */
export function member<T extends string | number>(values: readonly T[], found: string | undefined): T | undefined {
  if (found === undefined) return undefined;
  const wanted = found.toLowerCase();
  return values.find((value) => String(value).toLowerCase() === wanted);
}

/**
 * Text being read: each phrase taken out of it is not read again, so that a
 * caption's words or a transition's length do not count as anything else.
 */
export class Remaining {
  constructor(public text: string) {}

  /** The first match, cut out of the text. */
  take(pattern: RegExp): RegExpExecArray | undefined {
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(this.text);
    if (!match) return undefined;
    this.text = `${this.text.slice(0, match.index)} ${this.text.slice(match.index + match[0].length)}`;
    return match;
  }

  /** Every match, in order, each cut out of the text. */
  takeAll(pattern: RegExp): RegExpExecArray[] {
    const matches: RegExpExecArray[] = [];
    for (let match = this.take(pattern); match; match = this.take(pattern)) matches.push(match);
    return matches;
  }

  test(pattern: RegExp): boolean {
    return pattern.test(this.text);
  }
}
