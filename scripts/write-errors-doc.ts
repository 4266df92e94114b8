import { readFile, writeFile } from 'node:fs/promises';
import { withCodeTables, withRaisedInTable } from './errors-doc-tables.ts';

async function rewrite(document: string, write: (doc: string) => string): Promise<void> {
  const file = new URL(`../${document}`, import.meta.url);
  await writeFile(file, write(await readFile(file, 'utf8')));
}

await rewrite('docs/errors.md', withCodeTables);
await rewrite('docs/architecture.md', (doc) => withRaisedInTable(doc));
process.stdout.write('wrote the tables of docs/errors.md and the "raised in" table of docs/architecture.md from src/shared/errors/error-codes.ts\n');
