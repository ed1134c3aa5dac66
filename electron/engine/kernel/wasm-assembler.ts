// A minimal WebAssembly binary writer: the few instructions and sections the evaluation's
// kernel (log-softmax-kernel.ts) needs, spelled by name, so the kernel's source stays in this
// repository as readable code and no compiler or binary file is needed to build it.
// Opcodes are those of the WebAssembly 2.0 specification (core and fixed-width SIMD).

export type Code = readonly number[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
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

function bytesOf(array: Float64Array | Float32Array | Int32Array | BigInt64Array): number[] {
  return [...new Uint8Array(array.buffer, array.byteOffset, array.byteLength)];
}

const simd = (code: number, ...rest: number[]): Code => [0xfd, ...uleb(code), ...rest];
/** A memory access: alignment (log2 of bytes) and a constant offset. */
const memarg = (align: number, offset = 0): Code => [align, ...uleb(offset)];

/** Instructions by their text-format names (block types are always empty: values go through locals). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  get: (local: number): Code => [0x20, ...uleb(local)],
  set: (local: number): Code => [0x21, ...uleb(local)],
  tee: (local: number): Code => [0x22, ...uleb(local)],

  i32Const: (value: number): Code => [0x41, ...sleb(value)],
  i32Load16U: (offset = 0): Code => [0x2f, ...memarg(1, offset)],
  i32Store: [0x36, ...memarg(2)],
  i32Store16: [0x3b, ...memarg(1)],
  i32GtS: [0x4a],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],

  f32Load: [0x2a, ...memarg(2)],
  f32Store: [0x38, ...memarg(2)],
  f32Eq: [0x5b],
  f32Min: [0x96],
  f32Max: [0x97],

  f64Add: [0xa0],

  v128Load: simd(0x00, ...memarg(4)),
  v128Load32Zero: simd(0x5c, ...memarg(2)),
  v128Load64Zero: simd(0x5d, ...memarg(3)),
  v128And: simd(0x4e),
  f64x2Const: (a: number, b = a): Code => simd(0x0c, ...bytesOf(new Float64Array([a, b]))),
  i64x2Const: (a: bigint, b = a): Code => simd(0x0c, ...bytesOf(new BigInt64Array([a, b]))),
  f32x4Const: (value: number): Code => simd(0x0c, ...bytesOf(new Float32Array([value, value, value, value]))),
  i32x4Const: (value: number): Code => simd(0x0c, ...bytesOf(new Int32Array([value, value, value, value]))),
  /** i8x16.shuffle of a vector with itself (pushed twice): its 32-bit lanes 2 and 3 moved to 0 and 1. */
  highHalfDown: simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
  f32x4Splat: simd(0x13),
  f64x2Splat: simd(0x14),
  i32x4ExtractLane: (lane: number): Code => simd(0x1b, lane),
  f32x4ExtractLane: (lane: number): Code => simd(0x1f, lane),
  f64x2ExtractLane: (lane: number): Code => simd(0x21, lane),
  f32x4Gt: simd(0x44),
  f64x2Gt: simd(0x4a),
  v128Store64Lane: (lane: number): Code => simd(0x5b, ...memarg(3), lane),
  i16x8NarrowI32x4U: simd(0x86),
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2Floor: simd(0x75),
  f64x2Nearest: simd(0x94),
  i32x4ExtendLowI16x8U: simd(0xa9),
  i64x2ExtendLowI32x4S: simd(0xc7),
  i64x2Shl: simd(0xcb),
  i64x2Add: simd(0xce),
  f32x4Nearest: simd(0x6a),
  i32x4Shl: simd(0xab),
  i32x4Add: simd(0xae),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Min: simd(0xe8),
  f32x4Max: simd(0xe9),
  i32x4TruncSatF32x4S: simd(0xf8),
  f64x2Add: simd(0xf0),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  f64x2Div: simd(0xf3),
  f64x2Min: simd(0xf4),
  f64x2Max: simd(0xf5),
  i32x4TruncSatF64x2SZero: simd(0xfc),
  i32x4TruncSatF64x2UZero: simd(0xfd),
  f64x2ConvertLowI32x4U: simd(0xff),
} as const;

export interface WasmFunction {
  name: string;
  params: ValueType[];
  results: ValueType[];
  /** Locals after the parameters, in order. */
  locals: ValueType[];
  body: Code[];
}

function vector(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: Code): Code {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): Code {
  const bytes = [...Buffer.from(text, "utf8")];
  return [...uleb(bytes.length), ...bytes];
}

/** A module of `functions`, each exported by name, and one memory (exported as "memory") of `pages` 64 KiB pages. */
export function assembleModule(functions: WasmFunction[], pages: number): Uint8Array {
  const types = functions.map((fn) => [0x60, ...vector(fn.params.map((type) => [type])), ...vector(fn.results.map((type) => [type]))]);
  const bodies = functions.map((fn) => {
    const body = [...vector(fn.locals.map((type) => [1, type])), ...fn.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  });
  const exports = [...functions.map((fn, index) => [...name(fn.name), 0x00, ...uleb(index)]), [...name("memory"), 0x02, 0]];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, index) => uleb(index)))),
    ...section(5, vector([[0x00, ...uleb(pages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
