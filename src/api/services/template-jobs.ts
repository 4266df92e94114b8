import stringify from 'safe-stable-stringify';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import { malformedPlaceholders, mergeMismatch, resolveTemplateBody, templatePlaceholders, type Merge } from '../../shared/jobs/template-body.ts';
import { createJobBodySchema, type CreateJobBody } from '../http/schemas/jobs.ts';
import { intakeJsonBody, validationProblem, type JobIntake } from './job-intake.ts';
import type { TemplateRecord, TemplateStore } from './template-store.ts';
import type { UploadStore } from './upload-store.ts';

const invalid = (errors: { path: string; message: string }[]) =>
  new ProblemError('validation_failed', 'Invalid template', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), body);
}

/**
 * Refuses (400 validation_failed, each field path) a template body that no
 * merge could make a valid job of: a malformed `{{…}}`, an unknown field, a
 * missing images list, a value that is wrong and holds no placeholder. A
 * field that holds a placeholder is judged once merged.
 */
export function checkTemplateBody(body: Record<string, unknown>): void {
  const malformed = malformedPlaceholders(body);
  if (malformed.length > 0) {
    throw invalid(malformed.map(({ path, placeholder }) => ({ path: `body.body.${path}`, message: `${placeholder} is not a placeholder: names are a letter or "_", then letters, digits, "_", "." or "-"` })));
  }
  const parsed = createJobBodySchema.safeParse(body);
  if (parsed.success) return;
  const standing = parsed.error.issues.filter((issue) => {
    if (issue.code === 'unrecognized_keys') return true;
    const value = valueAt(body, issue.path);
    return value === undefined || templatePlaceholders(value).length === 0;
  });
  if (standing.length > 0) throw validationProblem({ issues: standing }, 'body.body');
}

/**
 * The job body a template version and a merge make, validated exactly as
 * POST /v1/jobs validates a JSON body. Pure (no I/O): 422 placeholder_missing
 * / placeholder_unknown, or 400 validation_failed with the merged body's
 * field paths.
 */
export function resolveTemplateJob(body: Readonly<Record<string, unknown>>, merge: Merge): CreateJobBody {
  const parsed = createJobBodySchema.safeParse(resolveTemplateBody(body, merge));
  if (!parsed.success) throw validationProblem(parsed.error, 'body');
  return parsed.data;
}

/** The tenant's template at `version` (default latest), or 404. */
export async function ownTemplate(templates: TemplateStore, tenant: string, id: string, version?: number): Promise<TemplateRecord> {
  const template = await templates.get(tenant, id, version);
  if (template) return template;
  const latest = version === undefined ? undefined : await templates.get(tenant, id);
  throw latest ? new ProblemError('not_found', 'Template version not found', `Template ${id} has no version ${version}; its latest is ${latest.latestVersion}.`) : templateNotFound(id);
}

export const templateNotFound = (id: string) => new ProblemError('not_found', 'Template not found', `There is no template ${id}.`);

/** A job's intake from a template and a merge; `canonical` (the request itself) is what an Idempotency-Key compares. */
export async function intakeTemplateJob(template: TemplateRecord, merge: Merge, tenant: string, uploads: UploadStore, canonical: unknown): Promise<JobIntake> {
  const intake = await intakeJsonBody(resolveTemplateJob(template.body, merge), tenant, uploads);
  return { ...intake, canonicalBody: stringify(canonical) ?? '', template: { id: template.id, version: template.version } };
}

/** Rows a problem report lists at most (the count says how many there were). */
const MAX_ROWS_REPORTED = 50;

export interface RowProblem {
  /** numbered from 1, in the order given */
  row: number;
  code: string;
  detail: string;
  placeholders?: string[];
  errors?: unknown;
}

/**
 * The intakes of a batch's rows, one job each; when any row does not make a
 * valid job, one 422 template_rows_invalid listing every bad row (number,
 * code, detail), so nothing of the batch is enqueued. `describeRow` names a
 * row in the detail (a CSV's line).
 */
export async function intakeTemplateRows(
  template: TemplateRecord,
  rows: readonly Merge[],
  tenant: string,
  uploads: UploadStore,
  describeRow: (row: number) => string = (row) => `row ${row}`,
): Promise<JobIntake[]> {
  const placeholders = templatePlaceholders(template.body);
  const problems: RowProblem[] = [];
  const intakes = await Promise.all(
    rows.map(async (merge, i) => {
      const row = i + 1;
      const mismatch = mergeMismatch(placeholders, merge);
      if (mismatch) return void problems.push({ row, code: mismatch.code, detail: mismatch.detail, placeholders: mismatch.placeholders });
      try {
        return await intakeTemplateJob(template, merge, tenant, uploads, undefined);
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        problems.push({ row, code: error.code, detail: error.message, ...(error.extra.errors ? { errors: error.extra.errors } : {}) });
        return undefined;
      }
    }),
  );
  if (problems.length > 0) {
    problems.sort((a, b) => a.row - b.row);
    const shown = problems.slice(0, MAX_ROWS_REPORTED);
    const summary = shown.slice(0, 3).map((p) => `${describeRow(p.row)}: ${p.detail}`).join('; ');
    throw new ProblemError('template_rows_invalid', 'Invalid rows', `${problems.length} of ${rows.length} rows do not make a valid job (${summary}${problems.length > 3 ? '; …' : ''}); nothing was enqueued`, {
      rows: shown,
    });
  }
  return intakes as JobIntake[];
}
