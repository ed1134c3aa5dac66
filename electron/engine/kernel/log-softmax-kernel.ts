// The evaluation's per-position arithmetic over a whole vocabulary (evaluation-math.ts's
// encodeReferencePosition and scoreAgainstReference) as a WebAssembly SIMD kernel, with
// llama-perplexity's precision: the log-sum-exp as float32 exps summed in float64 (four entries
// per instruction), the reference's levels in float32 (the same rows, byte for byte), the KL
// divergence in float64 (two per instruction; exp by range reduction and a degree-13
// polynomial). In JavaScript these loops cost several times llama-perplexity's C; here they
// cost less. Where the runtime lacks WebAssembly SIMD, `LogSoftmaxKernel.create` returns null
// and the callers use evaluation-math.ts.

import { compactHeader, compactLevel, type PositionScore } from "../evaluation-math.js";
import { assembleModule, F32, F64, I32, op, V128, type Code, type ValueType, type WasmFunction } from "./wasm-assembler.js";

/** ln 2 in two parts (fdlibm's): k · LN2_HI is exact for |k| < 2^20. */
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
/** 1/i! for i = 0..13: exp(r) for |r| ≤ ln 2 / 2 to within 2^-56 of the sum's truncation. */
const TAYLOR = Array.from({ length: 14 }, (_, degree) => {
  let factorial = 1;
  for (let i = 2; i <= degree; i++) factorial *= i;
  return 1 / factorial;
});

/** Σ coefficients[i] · r^i, Estrin's scheme (a short dependency chain); `powers[j]` is the local holding r^(2^j). */
function polynomial(coefficients: readonly number[], powers: readonly number[]): Code[] {
  if (coefficients.length === 1) return [op.f64x2Const(coefficients[0] ?? 0)];
  let level = 0;
  while (2 ** (level + 1) < coefficients.length) level++;
  const half = 2 ** level;
  return [
    ...polynomial(coefficients.slice(0, half), powers),
    ...polynomial(coefficients.slice(half), powers),
    op.get(powers[level] ?? 0),
    op.f64x2Mul,
    op.f64x2Add,
  ];
}

/**
 * exp of the f64x2 in local `source`, left on the stack; `scratch` names five v128 locals.
 * The argument is clamped to [−708, 709], where 2^k stays a normal number: every caller's
 * argument is at most 0, and below −708 exp is under 10^−307, nothing beside a sum of at least 1.
 */
function expLanes(source: number, scratch: readonly [number, number, number, number, number]): Code[] {
  const [k, r, r2, r4, r8] = scratch;
  return [
    ...[op.get(source), op.f64x2Const(-708), op.f64x2Max, op.f64x2Const(709), op.f64x2Min, op.set(r)],
    // k = nearest(x / ln 2); r = x − k · ln 2
    ...[op.get(r), op.f64x2Const(Math.LOG2E), op.f64x2Mul, op.f64x2Nearest, op.set(k)],
    ...[op.get(r), op.get(k), op.f64x2Const(LN2_HI), op.f64x2Mul, op.f64x2Sub],
    ...[op.get(k), op.f64x2Const(LN2_LO), op.f64x2Mul, op.f64x2Sub, op.set(r)],
    ...[op.get(r), op.get(r), op.f64x2Mul, op.set(r2), op.get(r2), op.get(r2), op.f64x2Mul, op.set(r4)],
    ...[op.get(r4), op.get(r4), op.f64x2Mul, op.set(r8)],
    ...polynomial(TAYLOR, [r, r2, r4, r8]),
    // exp(r) · 2^k, 2^k built from its bits: (k + 1023) << 52
    ...[op.get(k), op.i32x4TruncSatF64x2SZero, op.i64x2ExtendLowI32x4S, op.i64x2Const(1023n), op.i64x2Add],
    ...[op.i32Const(52), op.i64x2Shl, op.f64x2Mul],
  ];
}

/** Cephes' expf: ln 2 in two parts and its degree-7 polynomial, within about one float32 unit in the last place. */
const EXPF_POLYNOMIAL = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/**
 * expf of the f32x4 in local `source`, left on the stack (as llama-perplexity's expf, in
 * float32); `k` and `r` are v128 scratch locals. Clamped to [−87, 88], where 2^k stays a
 * normal float32; every caller's argument is at most 0, beside a sum of at least 1.
 */
function expfLanes(source: number, k: number, r: number): Code[] {
  const horner: Code[] = [op.f32x4Const(EXPF_POLYNOMIAL[0] ?? 0)];
  for (const coefficient of EXPF_POLYNOMIAL.slice(1)) horner.push(op.get(r), op.f32x4Mul, op.f32x4Const(coefficient), op.f32x4Add);
  return [
    ...[op.get(source), op.f32x4Const(-87), op.f32x4Max, op.f32x4Const(88), op.f32x4Min, op.set(r)],
    ...[op.get(r), op.f32x4Const(Math.LOG2E), op.f32x4Mul, op.f32x4Nearest, op.set(k)],
    ...[op.get(r), op.get(k), op.f32x4Const(0.693359375), op.f32x4Mul, op.f32x4Sub],
    ...[op.get(k), op.f32x4Const(-2.1219444e-4), op.f32x4Mul, op.f32x4Sub, op.set(r)],
    // p(r) · r² + r + 1
    ...horner,
    ...[op.get(r), op.f32x4Mul, op.get(r), op.f32x4Mul, op.get(r), op.f32x4Add, op.f32x4Const(1), op.f32x4Add],
    // · 2^k, from k's bits: (k + 127) << 23
    ...[op.get(k), op.i32x4TruncSatF32x4S, op.i32x4Const(127), op.i32x4Add, op.i32Const(23), op.i32x4Shl, op.f32x4Mul],
  ];
}

/** while (pointer < stop) { body; pointer += step; after } */
function loopOver(pointer: number, stop: number, step: number, body: Code[], after: Code[] = []): Code[] {
  return [
    op.block,
    op.loop,
    ...[op.get(pointer), op.get(stop), op.i32GeU, op.brIf(1)],
    ...body,
    ...[op.get(pointer), op.i32Const(step), op.i32Add, op.set(pointer)],
    ...after,
    op.br(0),
    op.end,
    op.end,
  ];
}

/** local = base + count · 2^shift */
const endOf = (base: number, count: number, shift: number, local: number): Code[] => [
  ...[op.get(base), op.get(count), op.i32Const(shift), op.i32Shl, op.i32Add, op.set(local)],
];

/** Two float32 logits at `pointer`, as f64x2. */
const twoLogits = (pointer: number): Code[] => [op.get(pointer), op.v128Load64Zero, op.f64x2PromoteLowF32x4];

/** Four f32 lanes of `vector` folded with `pick` (f32.max or f32.min). */
const fold = (vector: number, pick: Code): Code[] => [
  ...[op.get(vector), op.f32x4ExtractLane(0), op.get(vector), op.f32x4ExtractLane(1), pick],
  ...[op.get(vector), op.f32x4ExtractLane(2), op.get(vector), op.f32x4ExtractLane(3), pick, pick],
];

/** range(logits, n): maximum (f32 at byte 0), minimum (f32 at 4) and the first index of the maximum (i32 at 8). */
function rangeFunction(): WasmFunction {
  const [logits, n, pointer, stop4, stop, vmax, vmin, max, min] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return {
    name: "range",
    params: [I32, I32],
    results: [],
    locals: [I32, I32, I32, V128, V128, F32, F32],
    body: [
      ...[op.get(logits), op.f32Load, op.f32x4Splat, op.tee(vmax), op.set(vmin)],
      ...[op.get(logits), op.set(pointer)],
      ...[op.get(logits), op.get(n), op.i32Const(-4), op.i32And, op.i32Const(2), op.i32Shl, op.i32Add, op.set(stop4)],
      ...endOf(logits, n, 2, stop),
      ...loopOver(pointer, stop4, 16, [
        ...[op.get(vmax), op.get(pointer), op.v128Load, op.f32x4Max, op.set(vmax)],
        ...[op.get(vmin), op.get(pointer), op.v128Load, op.f32x4Min, op.set(vmin)],
      ]),
      ...[...fold(vmax, op.f32Max), op.set(max), ...fold(vmin, op.f32Min), op.set(min)],
      ...loopOver(pointer, stop, 4, [
        ...[op.get(max), op.get(pointer), op.f32Load, op.f32Max, op.set(max)],
        ...[op.get(min), op.get(pointer), op.f32Load, op.f32Min, op.set(min)],
      ]),
      // The first index holding the maximum, as a scalar loop's strict > finds it.
      ...[op.get(logits), op.set(pointer)],
      op.block,
      op.loop,
      ...[op.get(pointer), op.get(stop), op.i32GeU, op.brIf(1)],
      ...[op.get(pointer), op.f32Load, op.get(max), op.f32Eq, op.brIf(1)],
      ...[op.get(pointer), op.i32Const(4), op.i32Add, op.set(pointer), op.br(0)],
      op.end,
      op.end,
      ...[op.i32Const(0), op.get(max), op.f32Store, op.i32Const(4), op.get(min), op.f32Store],
      ...[op.i32Const(8), op.get(pointer), op.get(logits), op.i32Sub, op.i32Const(2), op.i32ShrU, op.i32Store],
    ],
  };
}

/** sumExp(logits, n a multiple of 4, max): Σ expf(logit − max), as llama-perplexity sums it: each term in float32, the sum in float64. */
function sumExpFunction(): WasmFunction {
  const [logits, n, maxParam, pointer, stop, max, acc, value, k, r] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    name: "sumExp",
    params: [I32, I32, F32],
    results: [F64],
    locals: [I32, I32, V128, V128, V128, V128, V128],
    body: [
      ...[op.get(logits), op.set(pointer)],
      ...endOf(logits, n, 2, stop),
      ...[op.get(maxParam), op.f32x4Splat, op.set(max), op.f64x2Const(0), op.set(acc)],
      ...loopOver(pointer, stop, 16, [
        ...[op.get(pointer), op.v128Load, op.get(max), op.f32x4Sub, op.set(value)],
        ...[...expfLanes(value, k, r), op.set(value)],
        ...[op.get(acc), op.get(value), op.f64x2PromoteLowF32x4, op.f64x2Add],
        ...[op.get(value), op.get(value), op.highHalfDown, op.f64x2PromoteLowF32x4, op.f64x2Add, op.set(acc)],
      ]),
      ...[op.get(acc), op.f64x2ExtractLane(0), op.get(acc), op.f64x2ExtractLane(1), op.f64Add],
    ],
  };
}

/**
 * quantize(logits, n a multiple of 4, row, minLogit, inverseScale): row[4 + i] = logit > minLogit ?
 * nearest(inverseScale · (logit − minLogit)) : 0, in float32, as llama-perplexity writes its levels.
 */
function quantizeFunction(): WasmFunction {
  const [logits, n, row, minParam, inverseParam, pointer, out, stop, min, inverse, value] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    name: "quantize",
    params: [I32, I32, I32, F32, F32],
    results: [],
    locals: [I32, I32, I32, V128, V128, V128],
    body: [
      ...[op.get(logits), op.set(pointer), op.get(row), op.i32Const(8), op.i32Add, op.set(out)],
      ...endOf(logits, n, 2, stop),
      ...[op.get(minParam), op.f32x4Splat, op.set(min), op.get(inverseParam), op.f32x4Splat, op.set(inverse)],
      ...loopOver(
        pointer,
        stop,
        16,
        [
          ...[op.get(pointer), op.v128Load, op.set(value)],
          ...[op.get(inverse), op.get(value), op.get(min), op.f32x4Sub, op.f32x4Mul, op.f32x4Nearest, op.i32x4TruncSatF32x4S],
          ...[op.get(value), op.get(min), op.f32x4Gt, op.v128And],
          ...[op.set(value), op.get(out), op.get(value), op.get(value), op.i16x8NarrowI32x4U, op.v128Store64Lane(0)],
        ],
        [op.get(out), op.i32Const(8), op.i32Add, op.set(out)],
      ),
    ],
  };
}

/** kld(logits, n even, row, norm, minLogProb, scale): Σ over reference log-probs b > −16 of exp(b) · (b − (logit − norm)). */
function kldFunction(): WasmFunction {
  const [logits, n, row, normParam, minParam, scaleParam, pointer, levels, stop, norm, min, scale, acc, base] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
  ];
  const scratch = [14, 15, 16, 17, 18] as const;
  return {
    name: "kld",
    params: [I32, I32, I32, F64, F64, F64],
    results: [F64],
    locals: [I32, I32, I32, V128, V128, V128, V128, V128, ...scratch.map((): ValueType => V128)],
    body: [
      ...[op.get(logits), op.set(pointer), op.get(row), op.i32Const(8), op.i32Add, op.set(levels)],
      ...endOf(logits, n, 2, stop),
      ...[op.get(normParam), op.f64x2Splat, op.set(norm), op.get(minParam), op.f64x2Splat, op.set(min)],
      ...[op.get(scaleParam), op.f64x2Splat, op.set(scale), op.f64x2Const(0), op.set(acc)],
      ...loopOver(
        pointer,
        stop,
        8,
        [
          // b = scale · level + min
          ...[op.get(scale), op.get(levels), op.v128Load32Zero, op.i32x4ExtendLowI16x8U, op.f64x2ConvertLowI32x4U, op.f64x2Mul],
          ...[op.get(min), op.f64x2Add, op.set(base)],
          // acc += exp(b) · (b − (logit − norm)) where b > −16
          ...[op.get(acc), ...expLanes(base, scratch)],
          ...[op.get(base), ...twoLogits(pointer), op.get(norm), op.f64x2Sub, op.f64x2Sub, op.f64x2Mul],
          ...[op.get(base), op.f64x2Const(-16), op.f64x2Gt, op.v128And, op.f64x2Add, op.set(acc)],
        ],
        [op.get(levels), op.i32Const(4), op.i32Add, op.set(levels)],
      ),
      ...[op.get(acc), op.f64x2ExtractLane(0), op.get(acc), op.f64x2ExtractLane(1), op.f64Add],
    ],
  };
}

/** top(row, n): the first index of the highest level in row[4 .. 4 + n]. */
function topFunction(): WasmFunction {
  const [row, n, pointer, stop, best, level, found] = [0, 1, 2, 3, 4, 5, 6];
  return {
    name: "top",
    params: [I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32],
    body: [
      ...[op.i32Const(-1), op.set(best), op.get(row), op.set(pointer)],
      ...endOf(row, n, 1, stop),
      ...loopOver(pointer, stop, 2, [
        ...[op.get(pointer), op.i32Load16U(8), op.tee(level), op.get(best), op.i32GtS, op.if],
        ...[op.get(level), op.set(best), op.get(pointer), op.set(found), op.end],
      ]),
      ...[op.get(found), op.get(row), op.i32Sub, op.i32Const(1), op.i32ShrU],
    ],
  };
}

/** The part of the WebAssembly global this uses (the engine's TypeScript has no DOM library, which declares it). */
interface WasmRuntime {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  range(logits: number, n: number): void;
  sumExp(logits: number, n: number, max: number): number;
  quantize(logits: number, n: number, row: number, minLogit: number, inverseScale: number): void;
  kld(logits: number, n: number, row: number, norm: number, minLogProb: number, scale: number): number;
  top(row: number, n: number): number;
}

const wasm = (globalThis as { WebAssembly?: WasmRuntime }).WebAssembly;
let compiled: object | null | undefined;

function kernelModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    if (!wasm) throw new Error("no WebAssembly");
    compiled = new wasm.Module(assembleModule([rangeFunction(), sumExpFunction(), quantizeFunction(), kldFunction(), topFunction()], 1));
  } catch {
    compiled = null; // no WebAssembly SIMD here (the unit test makes sure Node and Electron have it)
  }
  return compiled;
}

/** Where the logits start in the kernel's memory: after 16 bytes of results. */
const LOGITS = 16;
const PAGE = 65536;

/** One thread's instance of the kernel, its memory grown to the largest vocabulary seen. */
export class LogSoftmaxKernel {
  private f32: Float32Array;
  private u16: Uint16Array;
  private i32: Int32Array;
  private vocab = 0;
  private row = 0;

  private constructor(private readonly kernel: KernelExports) {
    this.f32 = new Float32Array(kernel.memory.buffer);
    this.u16 = new Uint16Array(kernel.memory.buffer);
    this.i32 = new Int32Array(kernel.memory.buffer);
  }

  /** The kernel, or null where this runtime cannot run it. */
  static create(): LogSoftmaxKernel | null {
    const module = kernelModule();
    if (module === null || !wasm) return null;
    return new LogSoftmaxKernel(new wasm.Instance(module).exports as KernelExports);
  }

  /** As encodeReferencePosition: the reference's compact row for these logits into `out`, and the NLL of `token`. */
  encode(logits: Float32Array, token: number, out: Uint16Array): number {
    const n = logits.length;
    const { max, min } = this.load(logits);
    const logSumExp = Math.log(this.sumExp(logits, max));
    const { minLogit, minLogProb, scale, inverseScale } = compactHeader(max, min, logSumExp);
    const header = new Float32Array(out.buffer, out.byteOffset, 2);
    header[0] = scale;
    header[1] = minLogProb;
    if (scale > 0) {
      const whole = n & ~3;
      this.kernel.quantize(LOGITS, whole, this.row, minLogit, inverseScale);
      out.set(this.u16.subarray(this.row / 2 + 4, this.row / 2 + 4 + whole), 4);
      for (let i = whole; i < n; i++) out[4 + i] = compactLevel(logits[i] ?? 0, minLogit, inverseScale);
    } else {
      out.fill(0, 4, 4 + n);
    }
    return max + logSumExp - (logits[token] ?? -Infinity);
  }

  /** As scoreAgainstReference: KL(reference ‖ these logits), the NLL of `token`, and whether both put the same token on top. */
  score(logits: Float32Array, token: number, reference: Uint16Array): PositionScore {
    const n = logits.length;
    const { max, maxIndex } = this.load(logits);
    const even = n & ~1;
    const last = n - 1;
    const norm = max + Math.log(this.sumExp(logits, max));
    const header = new Float32Array(reference.buffer, reference.byteOffset, 2);
    const scale = header[0] ?? 0;
    const minLogProb = header[1] ?? 0;
    this.u16.set(reference.subarray(0, 4 + n), this.row / 2);
    let kld = this.kernel.kld(LOGITS, even, this.row, norm, minLogProb, scale);
    if (even < n) {
      const base = scale * (reference[4 + last] ?? 0) + minLogProb;
      if (base > -16) kld += Math.exp(base) * (base - ((logits[last] ?? 0) - norm));
    }
    const topIndex = this.kernel.top(this.row, n);
    return { nll: norm - (logits[token] ?? -Infinity), kld, sameTop: topIndex === maxIndex };
  }

  /** As tokenProbability: the softmax probability of `token` under these logits. */
  probability(logits: Float32Array, token: number): number {
    const { max } = this.load(logits);
    return Math.exp((logits[token] ?? -Infinity) - max) / this.sumExp(logits, max);
  }

  /** Σ exp(logit − max): four at a time in the kernel, the last n mod 4 here. */
  private sumExp(logits: Float32Array, max: number): number {
    const whole = logits.length & ~3;
    let sum = this.kernel.sumExp(LOGITS, whole, max);
    for (let i = whole; i < logits.length; i++) sum += Math.fround(Math.exp(Math.fround((logits[i] ?? 0) - max)));
    return sum;
  }

  /** Copies the logits in and finds their range. */
  private load(logits: Float32Array): { max: number; min: number; maxIndex: number } {
    this.reserve(logits.length);
    this.f32.set(logits, LOGITS / 4);
    this.kernel.range(LOGITS, logits.length);
    return { max: this.f32[0] ?? 0, min: this.f32[1] ?? 0, maxIndex: this.i32[2] ?? 0 };
  }

  /** Room for `vocab` logits and one row of compactSlots(vocab) uint16s (16-byte aligned). */
  private reserve(vocab: number): void {
    if (vocab <= this.vocab) return;
    const row = LOGITS + Math.ceil((vocab * 4) / 16) * 16;
    const bytes = row + (vocab + 6) * 2;
    const memory = this.kernel.memory;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    this.f32 = new Float32Array(memory.buffer);
    this.u16 = new Uint16Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.vocab = vocab;
    this.row = row;
  }
}
