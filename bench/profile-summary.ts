/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went:
 * the functions with the most self time, and self time per package or
 * source folder. `npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [skip-ms]`
 * (skip-ms: leave out the first milliseconds, e.g. start-up).
 */
import { readFile } from 'node:fs/promises';
import { printTable } from './lib/table.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const skipUs = Number(skipArg ?? 0) * 1000;
const selfUs = new Map<number, number>();
const ownInclusive = new Map<string, number>();
let at = 0;
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (at < skipUs) return;
  totalUs += delta;
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  // inclusive time of the project's own functions: each counted once per sample, however deep it recurses
  const seen = new Set<string>();
  for (let node = byId.get(id); node; node = byId.get(parentOf.get(node.id) ?? -1)) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (!/\/(src|bench)\//.test(url) || url.includes('node_modules')) continue;
    const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    ownInclusive.set(name, (ownInclusive.get(name) ?? 0) + delta);
  }
});

/** node_modules/<package> or the source folder under src/, else what V8 calls it */
function area(url: string, name: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const src = /\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (src) return src[1] as string;
  if (url.startsWith('node:')) return url;
  return url ? url.replace(/^.*\//, '') : `(${name || 'anonymous'})`;
}

const functions = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
  functions.set(name, (functions.get(name) ?? 0) + us);
  const where = area(url, functionName);
  areas.set(where, (areas.get(where) ?? 0) + us);
}
const rows = (map: Map<string, number>, label: string) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, us]) => ({ [label]: key, ms: Math.round(us / 1000), '%': ((100 * us) / totalUs).toFixed(1) }));
printTable(`${file}: ${Math.round(totalUs / 1000)} ms profiled; self time by area`, rows(areas, 'area'));
printTable('self time by function', rows(functions, 'function'));
printTable("the project's own functions, inclusive time (what they and everything they call cost)", rows(ownInclusive, 'function'));
