import type { FastifyRequest } from 'fastify';
import { CsvError, parse } from 'csv-parse/sync';
import { ProblemError } from '../../shared/errors/problem-error.ts';
import type { Merge } from '../../shared/jobs/template-body.ts';
import { MAX_BATCH_ITEMS } from '../http/schemas/batches.ts';
import { parseJsonField } from './job-intake.ts';

/** The most a catalogue CSV may hold (500 rows of a few URLs and titles fit in far less). */
export const MAX_CSV_BYTES = 4 * 1024 * 1024;

const FORM_FIELDS = new Set(['template_id', 'template_version', 'webhook_url', 'webhook_events', 'metadata', 'priority']);
const JSON_FIELDS = new Set(['webhook_events', 'metadata', 'template_version']);

const csvInvalid = (detail: string, extra: Record<string, unknown> = {}) => new ProblemError('csv_invalid', 'Invalid CSV', detail, extra);
const formInvalid = (detail: string) => new ProblemError('validation_failed', 'Invalid request', detail, { errors: [{ path: 'body', message: detail }] });
const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

/** Rows of a CSV read, each with the line it starts on (the header is line 1). */
export interface CsvRows {
  rows: Merge[];
  lines: number[];
}

/**
 * A catalogue's rows from CSV text: a header of column names, each one of
 * the template's placeholders and every placeholder a column, then one row
 * per job (values are text, trimmed; blank lines skipped). 422 csv_invalid
 * says what is wrong and where.
 */
export function parseCsvRows(text: string, placeholders: readonly string[]): CsvRows {
  let parsed: { record: Record<string, string>; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      columns: (header: string[]) => {
        const duplicated = header.filter((name, i) => header.indexOf(name) !== i);
        if (duplicated.length > 0) throw csvInvalid(`the header names ${quoted([...new Set(duplicated)])} more than once`);
        const unknown = header.filter((name) => !placeholders.includes(name));
        if (unknown.length > 0) throw csvInvalid(`column(s) ${quoted(unknown)} match no placeholder of the template; it has ${quoted(placeholders)}`, { placeholders: unknown });
        const missing = placeholders.filter((name) => !header.includes(name));
        if (missing.length > 0) throw csvInvalid(`no column for the template's placeholder(s) ${quoted(missing)}`, { placeholders: missing });
        return header;
      },
    });
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    if (error instanceof CsvError) throw csvInvalid(`not readable as CSV: ${error.message}`);
    throw error;
  }
  if (parsed.length === 0) throw csvInvalid('no rows after the header: one row per job');
  if (parsed.length > MAX_BATCH_ITEMS) throw csvInvalid(`${parsed.length} rows; a batch takes at most ${MAX_BATCH_ITEMS}`);
  return { rows: parsed.map((row) => row.record), lines: parsed.map((row) => row.info.lines) };
}

/** A template batch sent as a form: its fields (JSON text where they are not text) and the CSV of a file part named `rows`. */
export async function readTemplateBatchForm(request: FastifyRequest): Promise<{ fields: Record<string, unknown>; csv: string }> {
  const fields: Record<string, unknown> = {};
  let csv: string | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'rows' || csv !== undefined) {
        part.file.resume();
        throw formInvalid(part.fieldname === 'rows' ? 'send one "rows" part' : `unexpected file part "${part.fieldname}"; the CSV goes in one part named "rows"`);
      }
      csv = await readText(part.file);
      continue;
    }
    if (!FORM_FIELDS.has(part.fieldname)) throw formInvalid(`unknown field "${part.fieldname}"; a template batch form has ${[...FORM_FIELDS].join(', ')} and a "rows" file`);
    fields[part.fieldname] = JSON_FIELDS.has(part.fieldname) ? parseJsonField(part.fieldname, String(part.value)) : part.value;
  }
  if (csv === undefined) throw formInvalid('send the rows as a CSV file part named "rows"');
  return { fields, csv };
}

async function readText(file: AsyncIterable<Buffer> & { truncated?: boolean }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file) {
    size += chunk.length;
    if (size > MAX_CSV_BYTES) throw new ProblemError('payload_too_large', 'Payload too large', `the CSV is over ${MAX_CSV_BYTES / 1024 / 1024} MB`);
    chunks.push(chunk);
  }
  if (file.truncated) throw new ProblemError('payload_too_large', 'Payload too large', 'the CSV is over MAX_UPLOAD_MB');
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.includes('\uFFFD')) throw csvInvalid('the CSV is not UTF-8 text');
  return text;
}
