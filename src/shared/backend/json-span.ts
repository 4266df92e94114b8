/**
 * The exact text of the value at `path` (object keys, outermost first) in a
 * JSON document already known to parse, or undefined when it has no such
 * value. A backend's draft is passed on as the bytes it sent: parsing and
 * writing it again would change its spacing, escapes and number forms.
 */
export function jsonTextAt(text: string, path: readonly string[]): string | undefined {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const skipString = () => {
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
  };
  const skipValue = () => {
    skipSpace();
    if (text[i] === '"') return skipString();
    if (text[i] !== '{' && text[i] !== '[') {
      while (i < text.length && !',}] \t\n\r'.includes(text[i] as string)) i++;
      return;
    }
    let depth = 0;
    do {
      const c = text[i];
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      i++;
    } while (depth > 0 && i < text.length);
  };
  /** moves past the key `key` of the object at `i`; false when it has none */
  const enter = (key: string): boolean => {
    skipSpace();
    if (text[i] !== '{') return false;
    i++;
    for (;;) {
      skipSpace();
      if (text[i] !== '"') return false;
      const start = i;
      skipString();
      const name = JSON.parse(text.slice(start, i)) as string;
      skipSpace();
      i++; // the colon
      if (name === key) return true;
      skipValue();
      skipSpace();
      if (text[i] !== ',') return false;
      i++;
    }
  };
  for (const key of path) if (!enter(key)) return undefined;
  skipSpace();
  const start = i;
  skipValue();
  return text.slice(start, i);
}
