import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Where and on what a benchmark ran: the figures mean little without it. */
export function machine() {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    commit: git(['rev-parse', 'HEAD']),
    /** uncommitted changes were part of the run */
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    at: new Date().toISOString(),
  };
}

/** Writes `bench/results/<name>-<date>.json` (figures plus the machine) and returns its path. */
export async function writeResults(name: string, figures: Record<string, unknown>): Promise<string> {
  const meta = machine();
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}-${meta.at.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ bench: name, ...meta, ...figures }, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}
