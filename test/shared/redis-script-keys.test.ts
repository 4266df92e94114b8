import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every Lua script in src/ (a template literal that calls redis.call), with the file it is in. */
async function scripts(): Promise<{ file: string; lua: string }[]> {
  const found: { file: string; lua: string }[] = [];
  const files = (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const text = await readFile(path.join('src', file), 'utf8');
    for (const match of text.matchAll(/`([^`]*redis\.call\([^`]*)`/g)) found.push({ file, lua: match[1] as string });
  }
  return found;
}

/** Commands whose first argument is not a key. */
const NO_KEY = new Set(['PUBLISH']);

describe('the Lua scripts, for Redis Cluster', () => {
  it('touch only the keys they are given (KEYS), so every key of a call is in the one slot of the prefix\'s hash tag', async () => {
    const all = await scripts();
    expect(all.length).toBeGreaterThan(8);
    const wrong: string[] = [];
    for (const { file, lua } of all) {
      // locals that stand for a key: `local key = KEYS[1]`
      const aliases = new Set([...lua.matchAll(/local\s+(\w+)\s*=\s*KEYS\[\d+\]/g)].map((m) => m[1]));
      for (const call of lua.matchAll(/redis\.call\(\s*'(\w+)'\s*,\s*([^,)]+)/g)) {
        const [text, command, key] = [call[0], (call[1] as string).toUpperCase(), (call[2] as string).trim()];
        if (NO_KEY.has(command)) continue;
        if (!/^KEYS\[\d+\]$/.test(key) && !aliases.has(key)) wrong.push(`${file}: ${text}`);
      }
      // a key name built inside the script (from ARGV or a reply) is a key Redis Cluster was not told about
      if (/\.\.\s*\w+\s*\)|unpack\(keys\)/.test(lua)) wrong.push(`${file}: builds key names inside the script`);
    }
    expect(wrong).toEqual([]);
  });
});
