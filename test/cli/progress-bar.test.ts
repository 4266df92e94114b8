import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../src/cli/client/progress-bar.ts';

function output(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (text: string) => writes.push(text) } };
}

const job = (status: string, stage: string, progress: number, queue_position: number | null = null) =>
  ({ status, stage, progress, queue_position }) as Parameters<ProgressBar['update']>[0];

describe('the progress bar of i2v animate', () => {
  it('redraws one line in place on a terminal, with the bar, the percentage and the stage', () => {
    const { writes, stream } = output(true, 80);
    const bar = new ProgressBar(stream);
    bar.update(job('queued', 'queued', 0, 2));
    bar.update(job('running', 'rendering', 47));
    bar.update(job('running', 'rendering', 47)); // unchanged: not redrawn
    bar.update(job('succeeded', 'done', 100));
    bar.finish();
    expect(writes).toEqual([
      `\r[${'-'.repeat(30)}]   0% queued (2 ahead)\x1b[K`,
      `\r[${'#'.repeat(14)}${'-'.repeat(16)}]  47% rendering\x1b[K`,
      `\r[${'#'.repeat(30)}] 100% succeeded\x1b[K`,
      '\n',
    ]);
  });

  it('shortens the bar, then drops it, on a narrow terminal, keeping the stage readable', () => {
    const narrow = output(true, 30);
    new ProgressBar(narrow.stream).update(job('running', 'instructing', 20));
    expect(narrow.writes[0]).toBe(`\r[##--------]  20% instructing\x1b[K`);

    const tiny = output(true, 20);
    new ProgressBar(tiny.stream).update(job('running', 'instructing', 20));
    expect(tiny.writes[0]).toBe(`\r 20% instructing\x1b[K`);
  });

  it('prints one plain line per stage when the output is not a terminal', () => {
    const { writes, stream } = output(false);
    const bar = new ProgressBar(stream);
    bar.update(job('running', 'uploading', 5));
    bar.update(job('running', 'uploading', 13));
    bar.update(job('running', 'rendering', 35));
    bar.update(job('failed', 'rendering', 60));
    bar.finish();
    expect(writes).toEqual(['uploading 5%\n', 'rendering 35%\n', 'failed 60%\n']);
  });
});
