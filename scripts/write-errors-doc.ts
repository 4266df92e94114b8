import { readFile, writeFile } from 'node:fs/promises';
import { withCodeTables } from './errors-doc-tables.ts';

const file = new URL('../docs/errors.md', import.meta.url);
await writeFile(file, withCodeTables(await readFile(file, 'utf8')));
process.stdout.write('wrote the tables of docs/errors.md from src/shared/errors/error-codes.ts\n');
