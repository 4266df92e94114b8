import { assembleModule, I32, op, V128, type Code } from './wasm-assembler.ts';

/**
 * The motion warp's inner loop as a WebAssembly SIMD function, because plain
 * JavaScript bilinear sampling costs about as much per frame as x264 itself.
 *
 * `warpPlane` resamples one 8-bit plane through an axis-aligned affine map
 * (a zoom and/or pan), bilinear with 1/256-pixel weights, separably:
 *  1. per output row, blend the two source rows it falls between into `tmp`
 *     (16 pixels per step, one weight for the whole row);
 *  2. per 8 output pixels, gather their left/right neighbours from `tmp` with
 *     one swizzle (the caller guarantees they span at most 16 source pixels)
 *     and blend them with per-pixel weights.
 *
 * Tables (built by the caller for each frame):
 *  - rows: per output row, two i32: the upper source row, its lower weight 0–256
 *  - cols: per group of 8 output pixels, 64 bytes: 16 swizzle indexes
 *    (8 left neighbours, then 8 right ones, relative to `base`), 8 × i16 right
 *    weights, 8 × i16 left weights, i32 `base` (a source column)
 *
 * Writes whole groups of 16, so up to 15 bytes past each output row, and reads
 * up to 47 bytes past the source columns it uses: the caller leaves slack.
 */
const P = { src: 0, stride: 1, dst: 2, dstWidth: 3, dstHeight: 4, cols: 5, rows: 6, tmp: 7, c0: 8, c1: 9 } as const;
// locals: 10–16 and 22–23 are i32, 17–21 v128 (as declared in the module below)
const L = { y: 10, upper: 11, lower: 12, out: 13, col: 14, rowEnd: 15, group: 16, right: 17, left: 18, a: 19, b: 20, half: 21, weight: 22, rowEntry: 23 } as const;

const ROW_ENTRY = 8;
export const COL_GROUP_BYTES = 64;

const increment = (local: number, by: number): Code => [op.get(local), op.i32(by), op.add, op.set(local)];
/** (x * weightA + y * weightB + 128) >> 8 on 8 lanes of u16 */
const blend16 = (x: Code, weightA: Code, y: Code, weightB: Code): Code => [
  x, weightA, op.i16x8Mul, y, weightB, op.i16x8Mul, op.i16x8Add, op.get(L.half), op.i16x8Add, op.i32(8), op.i16x8ShrU,
];

/** one group of 8 output pixels at table entry `group + offset`, as 8 × u16 */
const horizontalGroup = (offset: number): Code => [
  op.get(P.tmp), op.get(L.group), op.load(offset + 48), op.add, op.v128Load(),
  op.get(L.group), op.v128Load(offset), op.swizzle, op.set(L.a),
  blend16([op.get(L.a), op.extendLowU], [op.get(L.group), op.v128Load(offset + 32)], [op.get(L.a), op.extendHighU], [op.get(L.group), op.v128Load(offset + 16)]),
];

const body: Code = [
  op.i32(128), op.i16x8Splat, op.set(L.half),
  op.i32(0), op.set(L.y),
  op.block, op.loop,
  op.get(L.y), op.get(P.dstHeight), op.geU, op.brIf(1),
  // source rows and weights for this output row
  op.get(P.rows), op.get(L.y), op.i32(ROW_ENTRY), op.mul, op.add, op.set(L.rowEntry),
  op.get(P.src), op.get(L.rowEntry), op.load(0), op.get(P.stride), op.mul, op.add, op.set(L.upper),
  op.get(L.upper), op.get(P.stride), op.add, op.set(L.lower),
  op.get(L.rowEntry), op.load(4), op.set(L.weight),
  op.get(L.weight), op.i16x8Splat, op.set(L.right),
  op.i32(256), op.get(L.weight), op.sub, op.i16x8Splat, op.set(L.left),
  // 1. vertical blend of columns c0..c1 into tmp
  op.get(P.c0), op.set(L.col),
  op.block, op.loop,
  op.get(L.col), op.get(P.c1), op.geU, op.brIf(1),
  op.get(P.tmp), op.get(L.col), op.add,
  op.get(L.upper), op.get(L.col), op.add, op.v128Load(), op.set(L.a),
  op.get(L.lower), op.get(L.col), op.add, op.v128Load(), op.set(L.b),
  blend16([op.get(L.a), op.extendLowU], op.get(L.left), [op.get(L.b), op.extendLowU], op.get(L.right)),
  blend16([op.get(L.a), op.extendHighU], op.get(L.left), [op.get(L.b), op.extendHighU], op.get(L.right)),
  op.narrowU, op.v128Store,
  increment(L.col, 16), op.br(0),
  op.end, op.end,
  // 2. horizontal blend, 16 output pixels (two table groups) per step
  op.get(P.dst), op.get(L.y), op.get(P.dstWidth), op.mul, op.add, op.set(L.out),
  op.get(L.out), op.get(P.dstWidth), op.add, op.set(L.rowEnd),
  op.get(P.cols), op.set(L.group),
  op.block, op.loop,
  op.get(L.out), op.get(L.rowEnd), op.geU, op.brIf(1),
  op.get(L.out),
  horizontalGroup(0),
  horizontalGroup(COL_GROUP_BYTES),
  op.narrowU, op.v128Store,
  increment(L.out, 16), increment(L.group, 2 * COL_GROUP_BYTES), op.br(0),
  op.end, op.end,
  increment(L.y, 1), op.br(0),
  op.end, op.end,
];

const WASM = assembleModule([
  { exportName: 'warpPlane', params: Array(10).fill(I32), locals: [...Array(7).fill(I32), ...Array(5).fill(V128), I32, I32], body },
]);

/** The part of the WebAssembly API used here (the project's TypeScript libs leave it out). */
interface WasmApi {
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

export type WarpPlane = (
  src: number, stride: number, dst: number, dstWidth: number, dstHeight: number,
  cols: number, rows: number, tmp: number, c0: number, c1: number,
) => void;

/** A warp kernel bound to its own memory of at least `bytes` bytes. */
export function instantiateWarpKernel(bytes: number): { memory: { buffer: ArrayBuffer }; warpPlane: WarpPlane } {
  compiled ??= new wasm.Module(WASM);
  const memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536) });
  const instance = new wasm.Instance(compiled, { env: { memory } });
  return { memory, warpPlane: instance.exports.warpPlane as WarpPlane };
}
