import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openApiYaml } from '../../src/api/openapi.ts';

describe('openapi.yaml', () => {
  it('is exactly what the server registers (run `npm run openapi` after changing a route)', async () => {
    const committed = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(await openApiYaml());
  });
});
