import { writeFile } from 'node:fs/promises';
import { openApiYaml } from '../src/api/http/openapi.ts';

await writeFile(new URL('../openapi.yaml', import.meta.url), await openApiYaml());
process.stdout.write('wrote openapi.yaml\n');
