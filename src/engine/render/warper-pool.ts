import { FrameWarper, type Size } from './frame-warper.ts';

/**
 * Warpers handed back for reuse by the next picture of the same sizes. Each
 * holds a WebAssembly memory of several frames; allocating one per picture
 * made V8 run a full garbage collection every picture or two.
 */
export class WarperPool {
  private readonly idle: FrameWarper[] = [];

  constructor(private readonly slots: number) {}

  take(source: Size, output: Size): FrameWarper {
    const same = (a: Size, b: Size) => a.width === b.width && a.height === b.height;
    const at = this.idle.findIndex((w) => same(w.source, source) && same(w.output, output));
    return at >= 0 ? this.idle.splice(at, 1)[0]! : new FrameWarper(source, output, this.slots);
  }

  give(warper: FrameWarper): void {
    this.idle.push(warper);
  }
}
