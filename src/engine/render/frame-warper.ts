import type { ViewWindow } from './motion.ts';
import { COL_GROUP_BYTES, instantiateWarpKernel, type WarpPlane } from './warp-kernel.ts';

export interface Size {
  width: number;
  height: number;
}

/** Bytes of a yuv420p frame (even sides). */
export const yuv420Bytes = ({ width, height }: Size) => (width * height * 3) / 2;

/** The kernel reads and writes a little past the planes it works on (see warp-kernel.ts). */
const SLACK = 128;
const align = (n: number) => Math.ceil(n / 16) * 16;

interface Plane {
  width: number;
  height: number;
  offset: number;
}

function planesOf(size: Size): Plane[] {
  const luma = size.width * size.height;
  const chroma = { width: size.width / 2, height: size.height / 2 };
  return [
    { width: size.width, height: size.height, offset: 0 },
    { ...chroma, offset: luma },
    { ...chroma, offset: luma + luma / 4 },
  ];
}

/** A source coordinate as the kernel takes it: a pixel index and the next pixel's weight 0–256. */
export function samplePoint(coordinate: number, size: number): [index: number, weight: number] {
  const u = Math.min(Math.max(coordinate, 0), size - 1);
  let index = Math.floor(u);
  let weight = Math.round((u - index) * 256);
  if (weight === 256) {
    index++;
    weight = 0;
  }
  return index >= size - 1 ? [size - 2, 256] : [index, weight];
}

/** source coordinate = scale * output coordinate + offset, per axis */
export interface AxisMap {
  scale: number;
  offset: number;
}

/**
 * The maps that show `window` of a `source`-sized picture in an `output`-sized
 * frame, for luma and for 4:2:0 chroma (co-sited left, centred vertically).
 */
export function windowMaps(window: ViewWindow, source: Size, output: Size): { luma: [AxisMap, AxisMap]; chroma: [AxisMap, AxisMap] } {
  const axis = (centre: number, sourceSide: number, outputSide: number): AxisMap => {
    const scale = (window.size * sourceSide) / outputSide;
    // pixel centres: output x + 0.5 lands at (left edge + (x + 0.5) * scale), minus 0.5 to index
    return { scale, offset: (centre - window.size / 2) * sourceSide + 0.5 * scale - 0.5 };
  };
  const x = axis(window.cx, source.width, output.width);
  const y = axis(window.cy, source.height, output.height);
  return {
    luma: [x, y],
    chroma: [
      { scale: x.scale, offset: x.offset / 2 },
      { scale: y.scale, offset: (y.offset + 0.5 * y.scale - 0.5) / 2 },
    ],
  };
}

/**
 * Moves a yuv420p picture of `source` size through view windows into frames
 * of `output` size, sub-pixel exact. Owns one WebAssembly memory holding the
 * source, `slots` output frames (so frames still being written to ffmpeg are
 * not overwritten) and the kernel's tables.
 */
export class FrameWarper {
  readonly frameBytes: number;
  private readonly warpPlane: WarpPlane;
  private readonly heap: Uint8Array;
  private readonly words: Int32Array;
  private readonly halves: Int16Array;
  private readonly sourceOffset = 0;
  private readonly slotOffsets: number[];
  private readonly rowsOffset: number;
  private readonly colsOffset: number;
  private readonly tmpOffset: number;
  private readonly sourcePlanes: Plane[];
  private readonly outputPlanes: Plane[];

  constructor(
    readonly source: Size,
    readonly output: Size,
    readonly slots = 3,
  ) {
    this.frameBytes = yuv420Bytes(output);
    let next = align(yuv420Bytes(source) + SLACK);
    this.slotOffsets = Array.from({ length: slots }, () => {
      const at = next;
      next = align(next + this.frameBytes + SLACK);
      return at;
    });
    this.rowsOffset = next;
    next = align(next + output.height * 8);
    this.colsOffset = next;
    next = align(next + Math.ceil(output.width / 16) * 2 * COL_GROUP_BYTES);
    this.tmpOffset = next;
    next = align(next + source.width + SLACK);
    const kernel = instantiateWarpKernel(next);
    this.warpPlane = kernel.warpPlane;
    this.heap = new Uint8Array(kernel.memory.buffer);
    this.words = new Int32Array(kernel.memory.buffer);
    this.halves = new Int16Array(kernel.memory.buffer);
    this.sourcePlanes = planesOf(source);
    this.outputPlanes = planesOf(output);
  }

  /** Where the source picture goes (yuv420p, `source` size); fill it before warping. */
  get sourceFrame(): Uint8Array {
    return this.heap.subarray(this.sourceOffset, this.sourceOffset + yuv420Bytes(this.source));
  }

  /** Renders `window` of the source into output slot `slot`; the returned Buffer views that slot. */
  warp(window: ViewWindow, slot: number): Buffer {
    const maps = windowMaps(window, this.source, this.output);
    const base = this.slotOffsets[slot]!;
    this.sourcePlanes.forEach((sourcePlane, i) => {
      const outputPlane = this.outputPlanes[i]!;
      const [x, y] = i === 0 ? maps.luma : maps.chroma;
      this.warpOne(sourcePlane, outputPlane, base, x, y);
    });
    return Buffer.from(this.heap.buffer, base, this.frameBytes);
  }

  private warpOne(sourcePlane: Plane, outputPlane: Plane, base: number, x: AxisMap, y: AxisMap): void {
    for (let row = 0; row < outputPlane.height; row++) {
      const [index, weight] = samplePoint(y.scale * row + y.offset, sourcePlane.height);
      this.words[this.rowsOffset / 4 + row * 2] = index;
      this.words[this.rowsOffset / 4 + row * 2 + 1] = weight;
    }
    const { first, last } = this.fillColumnTable(sourcePlane.width, outputPlane.width, x);
    const c0 = first;
    const c1 = c0 + align(last + 16 - c0);
    this.warpPlane(
      this.sourceOffset + sourcePlane.offset, sourcePlane.width,
      base + outputPlane.offset, outputPlane.width, outputPlane.height,
      this.colsOffset, this.rowsOffset, this.tmpOffset, c0, c1,
    );
  }

  /** Fills the per-8-pixel gather table; returns the first and last source column it starts a group at. */
  private fillColumnTable(sourceWidth: number, outputWidth: number, x: AxisMap): { first: number; last: number } {
    const groups = Math.ceil(outputWidth / 16) * 2;
    let first = 0;
    let last = 0;
    for (let g = 0; g < groups; g++) {
      const entry = this.colsOffset + g * COL_GROUP_BYTES;
      let groupBase = 0;
      for (let lane = 0; lane < 8; lane++) {
        const [index, weight] = samplePoint(x.scale * (g * 8 + lane) + x.offset, sourceWidth);
        if (lane === 0) groupBase = index;
        const relative = index - groupBase;
        if (relative > 14) throw new Error(`warp scale ${x.scale} too large for the 16-pixel gather`);
        this.heap[entry + lane] = relative;
        this.heap[entry + 8 + lane] = relative + 1;
        this.halves[(entry + 16) / 2 + lane] = weight;
        this.halves[(entry + 32) / 2 + lane] = 256 - weight;
      }
      this.words[(entry + 48) / 4] = groupBase;
      if (g === 0) first = groupBase;
      last = groupBase;
    }
    return { first, last };
  }
}
