import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { documentedRows, jobRows, JOB_TABLE_HEADER, problemRows, PROBLEM_TABLE_HEADER, sourceTexts, withCodeTables, withRaisedInTable } from '../../scripts/errors-doc-tables.ts';
import { ERROR_CODES, problemStatus, type ErrorCode } from '../../src/shared/errors/error-codes.ts';
import { JobError } from '../../src/shared/errors/job-error.ts';
import { ProblemError } from '../../src/shared/errors/problem-error.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** How the doc's rows differ from the code table's: codes only one side has, and rows that say something else. */
function disagreements(documented: Map<string, string>, written: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [code, row] of written) {
    if (!documented.has(code)) found.push(`${code}: in error-codes.ts but not in docs/errors.md`);
    else if (documented.get(code) !== row) found.push(`${code}: docs/errors.md says\n  ${documented.get(code)}\nthe code table says\n  ${row}`);
  }
  for (const code of documented.keys()) if (!written.has(code)) found.push(`${code}: in docs/errors.md but not in error-codes.ts`);
  return found;
}

describe('docs/errors.md and src/shared/errors/error-codes.ts', () => {
  it('list the same API problem codes with the same status and meaning', () => {
    expect(disagreements(documentedRows(doc, PROBLEM_TABLE_HEADER), problemRows())).toEqual([]);
  });

  it('list the same job error codes with the same retryable flag and meaning', () => {
    expect(disagreements(documentedRows(doc, JOB_TABLE_HEADER), jobRows())).toEqual([]);
  });

  it('agree row for row, in order (scripts/write-errors-doc.ts rewrites the tables)', () => {
    expect(withCodeTables(doc)).toBe(doc);
  });

  it('catch a doc that disagrees with the table', () => {
    const agreeing = withCodeTables(doc);
    const flipped = agreeing.replace(/^(\| `instruction_uncertain` \|.*\| )no \|$/m, '$1yes |');
    expect(flipped).not.toBe(agreeing);
    expect(disagreements(documentedRows(flipped, JOB_TABLE_HEADER), jobRows())).toHaveLength(1);
    const dropped = agreeing.replace(/^\| 503 \| <a id="credits_unknown">.*\n/m, '');
    expect(disagreements(documentedRows(dropped, PROBLEM_TABLE_HEADER), problemRows())).toEqual([expect.stringMatching(/^credits_unknown: in error-codes/)]);
    const invented = agreeing.replace(PROBLEM_TABLE_HEADER + '\n|---|---|---|\n', (table) => `${table}| 400 | <a id="never_raised"></a>\`never_raised\` | nothing |\n`);
    expect(disagreements(documentedRows(invented, PROBLEM_TABLE_HEADER), problemRows())).toEqual([expect.stringMatching(/^never_raised: in docs/)]);
  });
});

describe('the code table', () => {
  it('holds only codes that src/ raises (a literal outside the table)', () => {
    const source = [...sourceTexts().values()].join('\n');
    expect(codes.filter((code) => !source.includes(`'${code}'`))).toEqual([]);
  });

  it('gives the status of every code openapi.yaml names in an error response', () => {
    const spec = parse(readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, { responses?: Record<string, { description?: string }> }>> };
    const wrong: string[] = [];
    let named = 0;
    for (const [route, methods] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (!/^[45]/.test(status)) continue;
          for (const [, token] of (response.description ?? '').matchAll(/`([a-z]+_[a-z_]+)`/g)) {
            named++;
            const problem = (ERROR_CODES as Record<string, { problem?: { status: number } }>)[token!]?.problem;
            const fits = problem && (/^\d+$/.test(status) ? String(problem.status) === status : String(problem.status)[0] === status[0]);
            if (!fits) wrong.push(`${method.toUpperCase()} ${route} ${status}: \`${token}\` is ${problem ? `a ${problem.status}` : 'no API problem code'}`);
          }
        }
      }
    }
    expect(named).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  });

  it('decides the flag of a job error and the status of a problem, and tsc refuses a code it does not hold', () => {
    expect(new JobError('instruction_uncertain', 'm').retryable).toBe(false);
    expect(new JobError('fetch_failed', 'm', true).retryable).toBe(true);
    expect(new ProblemError('not_revisable', 't').status).toBe(problemStatus('not_revisable'));
    const refusedByTsc = (): unknown[] => [
      // @ts-expect-error not a code of the table
      new JobError('no_such_code', 'm'),
      // @ts-expect-error the table decides the flag of a code whose flag is fixed
      new JobError('internal', 'm', false),
      // @ts-expect-error a perCall code needs the flag from the place that raises it
      new JobError('fetch_failed', 'm'),
      // @ts-expect-error an API problem code, not a job error's
      new JobError('not_found', 'm'),
      // @ts-expect-error not a problem code
      new ProblemError('no_such_code', 't'),
      // @ts-expect-error a job error code, not an API problem's
      new ProblemError('worker_lost', 't'),
    ];
    expect(refusedByTsc).toBeTypeOf('function');
  });
});

describe('the "raised in" table of docs/architecture.md', () => {
  const architecture = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');

  it('names, for every code, the files of src/ that raise it (scripts/write-errors-doc.ts rewrites it)', () => {
    expect(withRaisedInTable(architecture)).toBe(architecture);
  });

  it('changes when a file stops naming a code', () => {
    const sources = sourceTexts();
    sources.set('src/workers/watchdog.ts', (sources.get('src/workers/watchdog.ts') ?? '').replaceAll("'worker_lost'", "'gone'"));
    const stale = withRaisedInTable(architecture, sources);
    expect(stale).not.toBe(architecture);
    expect(stale).toMatch(/^\| `worker_lost` \| {2}\|$/m);
  });
});
