import path from 'node:path';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
/** the processes' own folders: each may import src/shared, none another's */
const PARTS = ['api', 'workers', 'engine'];

describe('the import graph of src/', () => {
  let graph: Record<string, string[]>;
  let cycles: string[][];

  beforeAll(async () => {
    const result = await madge(SRC, { fileExtensions: ['ts'] });
    graph = result.obj();
    cycles = result.circular();
  }, 60_000);

  it('covers every source file', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(150);
  });

  it('has no import cycle', () => {
    expect(cycles).toEqual([]);
  });

  it.each(PARTS)('keeps src/%s out of the other processes’ folders', (part) => {
    const crossings = Object.entries(graph)
      .filter(([file]) => file.startsWith(`${part}/`))
      .flatMap(([file, imports]) => imports.filter((target) => PARTS.some((other) => other !== part && target.startsWith(`${other}/`))).map((target) => `${file} → ${target}`));
    expect(crossings).toEqual([]);
  });
});
