// The quantization types Quanta offers, with llama.cpp's numbers for them: shared by the core
// (which plans and checks a Lab job) and the engine (which runs llama.cpp's quantizer).

import type { GgufHeader } from "./gguf-reader.js";

export interface QuantTypeInfo {
  /** llama_ftype in llama.h: the value llama_model_quantize_params.ftype takes. */
  readonly ftype: number;
  /**
   * Typical bits per weight of a whole file of this type: llama-quantize's own size table
   * (Llama-3-8B) converted to bits per weight; for IQ4 and the float types, the nominal size.
   * Used to predict the output size; a small model's mix differs by some percent.
   */
  readonly bitsPerWeight: number;
}

/**
 * llama.cpp's target types that Quanta offers, best first, with their llama_ftype numbers.
 * None of them needs an importance matrix (see IMATRIX_TYPES for those that do).
 */
export const QUANT_TYPES = {
  Q8_0: { ftype: 7, bitsPerWeight: 8.5 },
  Q6_K: { ftype: 18, bitsPerWeight: 6.57 },
  Q5_K_M: { ftype: 17, bitsPerWeight: 5.7 },
  Q5_K_S: { ftype: 16, bitsPerWeight: 5.57 },
  Q5_0: { ftype: 8, bitsPerWeight: 5.57 },
  Q4_K_M: { ftype: 15, bitsPerWeight: 4.9 },
  Q4_K_S: { ftype: 14, bitsPerWeight: 4.67 },
  Q4_0: { ftype: 2, bitsPerWeight: 4.64 },
  Q3_K_L: { ftype: 13, bitsPerWeight: 4.31 },
  Q3_K_M: { ftype: 12, bitsPerWeight: 4.0 },
  Q3_K_S: { ftype: 11, bitsPerWeight: 3.65 },
  Q2_K: { ftype: 10, bitsPerWeight: 3.17 },
  IQ4_NL: { ftype: 25, bitsPerWeight: 4.5 },
  IQ4_XS: { ftype: 30, bitsPerWeight: 4.25 },
  F16: { ftype: 1, bitsPerWeight: 16 },
  BF16: { ftype: 32, bitsPerWeight: 16 },
  F32: { ftype: 0, bitsPerWeight: 32 },
} as const satisfies Record<string, QuantTypeInfo>;

export type QuantType = keyof typeof QUANT_TYPES;

/** The offered type names in QUANT_TYPES's order. */
export const QUANT_TYPE_NAMES = Object.keys(QUANT_TYPES) as QuantType[];

/**
 * Types llama.cpp refuses to make without an importance matrix (llama-quant.cpp,
 * tensor_requires_imatrix: IQ1_*, IQ2_*, IQ3_XXS tensors, and Q2_K inside Q2_K_S). Quanta
 * does not compute importance matrices yet, so these are not offered; asking for one is
 * refused with that reason. Values are llama_ftype numbers.
 */
export const IMATRIX_TYPES = {
  IQ2_XXS: 19,
  IQ2_XS: 20,
  Q2_K_S: 21,
  IQ3_XS: 22,
  IQ3_XXS: 23,
  IQ1_S: 24,
  IQ2_S: 28,
  IQ2_M: 29,
  IQ1_M: 31,
} as const;

export function isQuantType(value: string): value is QuantType {
  return Object.hasOwn(QUANT_TYPES, value);
}

/** Sources worth quantizing from: anything lower would stack one quantization's error on another's. */
export const SOURCE_TYPES: ReadonlySet<string> = new Set(["F32", "F16", "BF16", "Q8_0"]);

/**
 * The output's size predicted from the source's header: tensors llama.cpp quantizes (named
 * *weight, two or more dimensions, not norms) at the type's typical bits per weight, the rest
 * as they are, each padded to the file's alignment, plus the source's header size.
 */
export function estimateQuantizedBytes(header: GgufHeader, type: QuantType): number {
  const bits = QUANT_TYPES[type].bitsPerWeight;
  const pad = (bytes: number): number => Math.ceil(bytes / header.alignment) * header.alignment;
  let total = header.dataOffset;
  for (const tensor of header.tensors) {
    const quantized = tensor.dims.length >= 2 && tensor.name.endsWith("weight") && !tensor.name.includes("_norm.");
    total += pad(quantized ? Math.ceil((tensor.elementCount * bits) / 8) : tensor.byteSize);
  }
  return total;
}
