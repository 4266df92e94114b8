/**
 * Just enough of a WebAssembly binary encoder to build one small module in
 * memory: LEB128 numbers, sections, and the instructions the warp kernel uses.
 * Instructions are plain byte arrays so a function body reads like a listing.
 */
export type Code = number[] | Code[];

function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const name = (text: string) => [...uleb(text.length), ...Buffer.from(text, 'utf8')];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];

export const I32 = 0x7f;
export const V128 = 0x7b;

const simd = (opcode: number, ...immediates: number[]) => [0xfd, ...uleb(opcode), ...immediates];
/** memarg: alignment exponent, then a constant offset */
const memarg = (align: number, offset: number) => [align, ...uleb(offset)];

export const op = {
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  geU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  end: [0x0b],
  load: (offset = 0) => [0x28, ...memarg(2, offset)],
  v128Load: (offset = 0) => simd(0x00, ...memarg(0, offset)),
  v128Store: simd(0x0b, ...memarg(0, 0)),
  swizzle: simd(0x0e),
  i16x8Splat: simd(0x10),
  narrowU: simd(0x66),
  extendLowU: simd(0x89),
  extendHighU: simd(0x8a),
  i16x8ShrU: simd(0x8d),
  i16x8Add: simd(0x8e),
  i16x8Mul: simd(0x95),
};

export interface WasmFunction {
  exportName: string;
  params: number[];
  locals: number[];
  body: Code;
}

/** A module that imports its memory as `env.memory` and exports the given functions. */
export function assembleModule(functions: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((fn) => [0x60, ...vector(fn.params.map((type) => [type])), 0]);
  const bodies = functions.map((fn) => {
    const code = [...vector(fn.locals.map((type) => [1, type])), ...(fn.body as unknown[]).flat(Infinity as 1), 0x0b] as number[];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((fn, i) => [...name(fn.exportName), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
