import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openApiYaml } from '../../src/api/http/openapi.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface LintReport {
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/** Redocly CLI (devDependency @redocly/cli) with redocly.yaml: its recommended rules; nothing is sent anywhere. */
async function redoclyLint(file: string): Promise<LintReport> {
  const run = promisify(execFile)(`${root}node_modules/.bin/redocly`, ['lint', '--format=json', file], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  // an error-level problem makes it exit 1, with the same report on stdout
  const { stdout } = await run.catch((failed: { stdout?: string }) => {
    if (!failed.stdout) throw failed;
    return { stdout: failed.stdout };
  });
  return JSON.parse(stdout) as LintReport;
}

describe('openapi.yaml', () => {
  it('is exactly what the server registers (run `npm run openapi` after changing a route)', async () => {
    const committed = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(await openApiYaml());
  });

  it("passes Redocly's recommended lint without an error or a warning", async () => {
    const { problems } = await redoclyLint('openapi.yaml');
    expect(problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
  });
});
