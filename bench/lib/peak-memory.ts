import { readFileSync } from 'node:fs';

/** One child process's high-water mark of resident memory, as its /proc/<pid>/status reported it last. */
export interface ChildPeak {
  pid: number;
  command: string;
  peakKb: number;
}

function readKb(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

function childPids(): number[] {
  try {
    return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Samples every `intervalMs` the VmHWM (peak RSS) of this process's children
 * (the ffmpegs a render starts) and this process's own RSS. VmHWM only grows,
 * so the last sample before a child exits is its peak, short of whatever it
 * allocated in its last interval.
 */
export class PeakMemorySampler {
  private readonly children = new Map<number, ChildPeak>();
  private selfPeakKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 20) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  private sample(): void {
    this.selfPeakKb = Math.max(this.selfPeakKb, Math.round(process.memoryUsage().rss / 1024));
    for (const pid of childPids()) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        const previous = this.children.get(pid);
        this.children.set(pid, { pid, command: previous?.command || command, peakKb: Math.max(previous?.peakKb ?? 0, readKb(status, 'VmHWM')) });
      } catch {
        // it exited between the listing and the read
      }
    }
  }

  stop(): { children: ChildPeak[]; selfPeakKb: number } {
    clearInterval(this.timer);
    this.sample();
    return { children: [...this.children.values()].filter((c) => c.peakKb > 0), selfPeakKb: this.selfPeakKb };
  }
}
