import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOP_FOLDERS = ['src', 'test', 'bench', 'docs', 'public', 'docker', 'scripts', 'openapi.yaml'];
const PATH_TOKEN = new RegExp(`(?<![\\w./-])((?:${TOP_FOLDERS.join('|')})(?:/[\\w.@*-]+)*/?)`, 'g');

/** Every repository path a document names: in prose, in tables and in code blocks. */
export function namedPaths(markdown: string): string[] {
  const named = new Set<string>();
  for (const match of markdown.matchAll(PATH_TOKEN)) {
    const token = (match[1] ?? '').replace(/[.,:;)]+$/, '');
    if (token.includes('/') || token === 'openapi.yaml') named.add(token);
  }
  return [...named];
}

/**
 * The layout tree's nested lines (`  http/   the Fastify app`) name folders
 * and files inside the top-level folder above them.
 */
export function layoutTreePaths(markdown: string): string[] {
  const section = /## Layout\n[\s\S]*?```\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
  const paths: string[] = [];
  let parent = '';
  for (const line of section.split('\n')) {
    const top = /^(\S+\/)\s/.exec(line)?.[1];
    if (top) {
      parent = top;
      paths.push(parent);
      continue;
    }
    const nested = /^ {2}(\S+)\s{2,}/.exec(line);
    if (nested && parent) paths.push(`${parent}${nested[1]}`);
  }
  return paths;
}

/** A pattern (`bench/results/faults-*.json`) names what a run writes: its folder must exist. */
function exists(named: string): boolean {
  return existsSync(path.join(ROOT, named.includes('*') ? path.dirname(named) : named));
}

/**
 * Code names a document quotes in backticks: environment variables
 * (`WORKER_LOCK_MS`), types and classes (`ReplyAccumulator`), members
 * (`JobRecords.transition`) and fields (`renderId`).
 */
export function quotedCodeNames(markdown: string): string[] {
  const names = new Set<string>();
  for (const [, quoted = ''] of markdown.matchAll(/`([^`\n]+)`/g)) {
    if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(quoted) || /^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$/.test(quoted) || /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/.test(quoted)) names.add(quoted);
    const member = /^([A-Z][A-Za-z0-9]+)\.([a-z][A-Za-z0-9]+)$/.exec(quoted);
    if (member?.[1] && member[2]) names.add(member[1]).add(member[2]);
  }
  return [...names];
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}
const SOURCE_WORDS = new Set(sourceFiles(path.join(ROOT, 'src')).flatMap((file) => readFileSync(file, 'utf8').match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));

const DOCUMENTS = ['docs/architecture.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'architecture.md').map((f) => `docs/${f}`), 'README.md'];

describe.each(DOCUMENTS)('%s', (document) => {
  const markdown = readFileSync(path.join(ROOT, document), 'utf8');

  it('names only source paths that exist', () => {
    const missing = [...namedPaths(markdown), ...(document === 'docs/architecture.md' ? layoutTreePaths(markdown) : [])].filter((named) => !exists(named));
    expect(missing).toEqual([]);
  });

  if (document === 'docs/architecture.md')
    it('quotes only code names that are in src/', () => {
      expect(quotedCodeNames(markdown).filter((name) => !SOURCE_WORDS.has(name))).toEqual([]);
    });
});

describe('the path reader itself', () => {
  it('finds paths in prose, tables, code and the layout tree', () => {
    const doc = 'See `src/shared/jobs/job-record.ts`, | src/api/ | and (bench/faults.ts).\n## Layout\n```\nsrc/api/   the API\n  http/      the app\n```\n';
    expect(namedPaths(doc)).toEqual(expect.arrayContaining(['src/shared/jobs/job-record.ts', 'src/api/', 'bench/faults.ts']));
    expect(layoutTreePaths(doc)).toEqual(['src/api/', 'src/api/http/']);
    expect(exists('src/nowhere.ts')).toBe(false);
    expect(exists('src/nowhere/*.ts')).toBe(false);
  });

  it('finds quoted code names', () => {
    expect(quotedCodeNames('`WORKER_LOCK_MS`, `ReplyAccumulator`, `JobRecords.transition`, `renderId`, `npm start`, `job.succeeded`').sort()).toEqual(
      ['JobRecords', 'ReplyAccumulator', 'WORKER_LOCK_MS', 'renderId', 'transition'].sort(),
    );
    expect(SOURCE_WORDS.has('NoSuchThingAnywhere')).toBe(false);
  });

  it('reads the real layout tree', () => {
    const tree = layoutTreePaths(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));
    expect(tree).toEqual(expect.arrayContaining(['src/api/', 'src/shared/', 'test/']));
    expect(tree.filter((named) => named.split('/').filter(Boolean).length > 2).length).toBeGreaterThan(5);
  });
});

describe('the "where it lives" table of docs/architecture.md', () => {
  const markdown = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = /## Where it lives\n([\s\S]*?)\n## /.exec(markdown)?.[1] ?? '';
  const rows = [...section.matchAll(/^\| (.+?) \| `([^`]+)` \|$/gm)].map(([, what = '', file = '']) => ({ what, file }));
  const source = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
  const apiRows = rows.flatMap(({ what, file }) => {
    const route = /^`(GET|POST|PUT|DELETE) (\/\S*)`$/.exec(what);
    return route?.[1] && route[2] ? [{ method: route[1], route: route[2], file }] : [];
  });
  const engineRows = rows.flatMap(({ what, file }) => {
    const endpoint = /^engine `(\/\S*)`$/.exec(what)?.[1];
    return endpoint ? [{ endpoint, file }] : [];
  });

  it('lists every operation of openapi.yaml, each in the file that registers it', () => {
    const spec = source('openapi.yaml');
    const operations = [...spec.matchAll(/^ {2}(\/\S*):\n((?: {4}.*\n|\s*\n)*)/gm)].flatMap(([, route = '', body = '']) =>
      [...body.matchAll(/^ {4}(get|post|put|delete):/gm)].map(([, method = '']) => `${method.toUpperCase()} ${route}`),
    );
    expect(operations.length).toBeGreaterThan(20);
    expect(apiRows.map((row) => `${row.method} ${row.route}`).sort()).toEqual([...operations].sort());
    for (const row of apiRows) {
      const text = source(row.file);
      const route = row.route.replace(/\{(\w+)\}/g, ':$1');
      // job-files.ts registers each entry of its FILES table: `url: '<route>'`, then `.get(file.url`
      const registered = text.includes(`.${row.method.toLowerCase()}('${route}'`) || (text.includes(`url: '${route}'`) && text.includes(`.${row.method.toLowerCase()}(file.url`));
      expect(registered, `${row.method} ${row.route} in ${row.file}`).toBe(true);
    }
  });

  it('lists every endpoint of the engine’s protocol, each in the file that serves it', () => {
    const routesDir = path.join(ROOT, 'src/engine/protocol/routes');
    const served = readdirSync(routesDir).flatMap((file) => [...readFileSync(path.join(routesDir, file), 'utf8').matchAll(/'(\/(?:api|run_sse|files|renders)[^']*)'/g)].map(([, route = '']) => route));
    expect(engineRows.map((row) => row.endpoint).sort()).toEqual([...new Set(served)].sort());
    for (const row of engineRows) expect(source(row.file), row.endpoint).toContain(`'${row.endpoint}'`);
  });
});
