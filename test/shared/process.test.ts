import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessError, runProcess } from '../../src/shared/infra/process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'i2v-process-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A shell that writes its pid to `file`, then becomes `sleep` (same pid). */
const sleeperArgs = (file: string, seconds: number) => ['-c', `echo $$ > ${file}; exec sleep ${seconds}`];

async function pidIn(file: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim()) return Number(text.trim());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no pid in ${file}`);
}

/** Gone, or a zombie nobody has reaped yet: either way no longer running. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.split(')').at(-1)!.trim()[0] !== 'Z';
}

async function waitUntilStopped(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await isRunning(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('runProcess', () => {
  it('returns what the program printed', async () => {
    await expect(runProcess('sh', ['-c', 'echo out; echo err >&2'])).resolves.toEqual({ stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes arguments as they are, without a shell', async () => {
    const tricky = ['$(touch pwned)', "a'b", 'c;d', ' spaced '];
    const { stdout } = await runProcess('printf', ['%s\\n', ...tricky]);
    expect(stdout.split('\n').slice(0, -1)).toEqual(tricky);
  });

  it('fails with the exit code and the end of stderr', async () => {
    const error = await runProcess('sh', ['-c', 'echo first >&2; echo last >&2; exit 3']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect(error).toMatchObject({ exitCode: 3, stderr: 'first\nlast\n' });
    expect((error as Error).message).toBe('sh exited with 3: first | last');
  });

  it('says when the program does not exist', async () => {
    const error = await runProcess('i2v-no-such-program', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect(error).toMatchObject({ exitCode: null });
    expect((error as Error).message).toMatch(/ENOENT/);
  });

  it('kills a program that outlives its time limit', async () => {
    const file = path.join(dir, 'timeout.pid');
    const run = runProcess('sh', sleeperArgs(file, 30), { timeoutMs: 500 });
    const error = await run.catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^sh timed out after 500 ms/);
    expect(await waitUntilStopped(await pidIn(file))).toBe(true);
  });

  it('kills the program when the caller aborts', async () => {
    const file = path.join(dir, 'abort.pid');
    const controller = new AbortController();
    const run = runProcess('sh', sleeperArgs(file, 30), { signal: controller.signal });
    const pid = await pidIn(file);
    controller.abort(new Error('job canceled'));
    const error = await run.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', cause: new Error('job canceled') });
    expect(await waitUntilStopped(pid)).toBe(true);
  });

  it('streams stdout to onStdout as it comes', async () => {
    const chunks: string[] = [];
    const result = await runProcess('sh', ['-c', 'echo one; sleep 0.2; echo two'], { onStdout: (chunk) => chunks.push(chunk) });
    expect(chunks.join('')).toBe('one\ntwo\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(result.stdout).toBe('');
  });

  it('runs many programs at once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => runProcess('echo', [String(i)])));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('leaves no program running when the process that started it is killed', async () => {
    const file = path.join(dir, 'orphan.pid');
    const script = path.join(dir, 'parent.mts');
    const processModule = path.resolve('src/shared/infra/process.ts');
    await writeFile(script, `import { runProcess } from ${JSON.stringify(processModule)};\nawait runProcess('sh', ${JSON.stringify(sleeperArgs(file, 30))});\n`);
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
    const pid = await pidIn(file);
    expect(await isRunning(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await waitUntilStopped(pid)).toBe(true);
  });

  it('lets the process exit when nothing runs', async () => {
    const script = path.join(dir, 'idle.mts');
    const processModule = path.resolve('src/shared/infra/process.ts');
    await writeFile(script, `import { runProcess } from ${JSON.stringify(processModule)};\nconst { stdout } = await runProcess('echo', ['done']);\nprocess.stdout.write(stdout);\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, output }).toEqual({ code: 0, output: 'done\n' });
  });
});
