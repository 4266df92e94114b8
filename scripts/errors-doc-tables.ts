import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, type ErrorCodeEntry, type JobErrorEntry, type ProblemEntry } from '../src/shared/errors/error-codes.ts';

/** docs/errors.md's two tables and docs/architecture.md's "raised in" table, as written from src/shared/errors/error-codes.ts. */
export const PROBLEM_TABLE_HEADER = '| status | code | when |';
export const JOB_TABLE_HEADER = '| code | what happened | retryable |';

const entries = Object.entries(ERROR_CODES as Record<string, ErrorCodeEntry>);

/** One row per problem code, by status (codes of one status in the table's order). */
export function problemRows(): Map<string, string> {
  const problems = entries.filter((e): e is [string, ErrorCodeEntry & { problem: ProblemEntry }] => e[1].problem !== undefined);
  const sorted = problems.toSorted(([, a], [, b]) => a.problem.status - b.problem.status);
  return new Map(sorted.map(([code, { problem }]) => [code, `| ${problem.status} | <a id="${code}"></a>\`${code}\` | ${problem.when} |`]));
}

const retryableCell = ({ retryable }: JobErrorEntry) => (retryable === true ? 'yes' : retryable === false ? 'no' : retryable.perCall);

/** One row per job error code, in the table's order. */
export function jobRows(): Map<string, string> {
  const jobs = entries.filter((e): e is [string, ErrorCodeEntry & { job: JobErrorEntry }] => e[1].job !== undefined);
  return new Map(jobs.map(([code, { job }]) => [code, `| \`${code}\` | ${job.what} | ${retryableCell(job)} |`]));
}

/** The rows of the markdown table under `header` in `doc`, by the code each names. */
export function documentedRows(doc: string, header: string): Map<string, string> {
  const lines = doc.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`docs/errors.md has no table "${header}"`);
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.set(/`([^`]+)`/.exec(line)?.[1] ?? line, line);
  }
  return rows;
}

function replaceTable(doc: string, header: string, rows: Iterable<string>): string {
  const lines = doc.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`no table "${header}" in the document`);
  let end = start + 2;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  return [...lines.slice(0, start + 2), ...rows, ...lines.slice(end)].join('\n');
}

/** `doc` with both tables written from the code table. */
export function withCodeTables(doc: string): string {
  return replaceTable(replaceTable(doc, PROBLEM_TABLE_HEADER, problemRows().values()), JOB_TABLE_HEADER, jobRows().values());
}

export const RAISED_IN_HEADER = '| code | raised in |';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Every .ts file under src/ outside the table's own folder, by its repository path. */
export function sourceTexts(dir = path.join(ROOT, 'src')): Map<string, string> {
  const texts = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true }).toSorted((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!full.endsWith(path.join('src', 'shared', 'errors'))) for (const [file, text] of sourceTexts(full)) texts.set(file, text);
    } else if (entry.name.endsWith('.ts')) texts.set(path.relative(ROOT, full), readFileSync(full, 'utf8'));
  }
  return texts;
}

/** One row per code, in the table's order: the files whose code names it as a literal (raising it, or deciding on it). */
export function raisedInRows(sources = sourceTexts()): Map<string, string> {
  return new Map(
    entries.map(([code]) => {
      const files = [...sources].filter(([, text]) => text.includes(`'${code}'`)).map(([file]) => `\`${file}\``);
      return [code, `| \`${code}\` | ${files.join(', ')} |`];
    }),
  );
}

/** docs/architecture.md with its "raised in" table written from the code table and src/. */
export function withRaisedInTable(doc: string, sources = sourceTexts()): string {
  return replaceTable(doc, RAISED_IN_HEADER, raisedInRows(sources).values());
}
