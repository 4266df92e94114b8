import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) used so far by this process and by its children that have exited. */
export function cpuSeconds(): number {
  // /proc/self/stat: the command may hold spaces, so count fields after its closing parenthesis
  const fields = readFileSync('/proc/self/stat', 'utf8').split(')').at(-1)!.trim().split(/\s+/);
  // fields 16 and 17 of the stat line (cutime, cstime) are 14 and 15 after the command
  const children = (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
  const own = process.cpuUsage();
  return children + (own.user + own.system) / 1e6;
}
