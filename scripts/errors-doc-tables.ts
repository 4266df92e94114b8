import { ERROR_CODES, type ErrorCodeEntry, type JobErrorEntry, type ProblemEntry } from '../src/shared/errors/error-codes.ts';

/** docs/errors.md's two tables, as written from src/shared/errors/error-codes.ts. */
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
  if (start < 0) throw new Error(`docs/errors.md has no table "${header}"`);
  let end = start + 2;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  return [...lines.slice(0, start + 2), ...rows, ...lines.slice(end)].join('\n');
}

/** `doc` with both tables written from the code table. */
export function withCodeTables(doc: string): string {
  return replaceTable(replaceTable(doc, PROBLEM_TABLE_HEADER, problemRows().values()), JOB_TABLE_HEADER, jobRows().values());
}
