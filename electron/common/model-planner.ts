// "What would it take": for a parameter count (or a model's own header), each quantization
// type's file size, the memory it needs with the KV cache at a context, whether that fits in
// this machine's RAM and VRAM, and the generation speed bound the memory bandwidth sets.
// Pure arithmetic from the quantization table (quant-table.ts), shared by the Lab's planner.

import { QUANT_TYPES, type QuantType } from "./quant-table.js";

/** The architecture figures the KV cache depends on. */
export interface ModelShape {
  parameters: number;
  layers: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** "rule": derived from the parameter count (shapeFromParameters); "header": a model's GGUF header; "preset": published figures. */
  source: "rule" | "header" | "preset";
}

/** Head dimension of the rule of thumb: 128, as in Llama 2/3, Mistral, Qwen 2.5 7B+ and GPT-3. */
export const RULE_HEAD_DIM = 128;
/** Width per layer of the rule of thumb (embedding = 128 × layers): Llama 2 7B/13B, Llama 3 8B and GPT-3 175B all sit on it. */
export const RULE_WIDTH_PER_LAYER = 128;
/** Grouped-query attention of the rule: at most 8 KV heads (Llama 2 70B, Llama 3, Mistral, Qwen 2.5). */
export const RULE_MAX_KV_HEADS = 8;

/**
 * A dense decoder's shape from its parameter count, by a rule of thumb: a Llama-style block has
 * about 12·d² weights (4·d² attention, 8·d² feed-forward), so P ≈ 12·L·d²; with d = 128·L,
 * L = ∛(P / (12·128²)), then d is set so 12·L·d² ≈ P, rounded to whole 128-wide heads; KV heads
 * are min(heads, 8). Gives 96 layers × 12,288 for 175B (GPT-3's own) and 32 × 4,096 for 6.44B (Llama 2 7B's
 * blocks). Embeddings are not counted apart: a small model's shape is rougher.
 */
export function shapeFromParameters(parameters: number): ModelShape {
  const layers = Math.max(1, Math.round(Math.cbrt(parameters / (12 * RULE_WIDTH_PER_LAYER ** 2))));
  const heads = Math.max(1, Math.round(Math.sqrt(parameters / (12 * layers)) / RULE_HEAD_DIM));
  return {
    parameters,
    layers,
    embedding: heads * RULE_HEAD_DIM,
    heads,
    kvHeads: Math.min(heads, RULE_MAX_KV_HEADS),
    headDim: RULE_HEAD_DIM,
    source: "rule",
  };
}

/** GPT-3 175B as published (Brown et al. 2020, table 2.1): 96 layers, 96 heads of 128, full multi-head attention, 2,048 context. */
export const GPT3_175B: ModelShape = {
  parameters: 175e9,
  layers: 96,
  embedding: 12288,
  heads: 96,
  kvHeads: 96,
  headDim: 128,
  source: "preset",
};

/** The parameter counts the planner offers, 0.5B to 405B. */
export const PLANNER_SIZES: readonly number[] = [0.5e9, 1e9, 1.5e9, 3e9, 7e9, 8e9, 13e9, 14e9, 32e9, 70e9, 175e9, 405e9];

/** The types the planner shows, widest first: floats, then llama.cpp's quantizations. */
export const PLANNER_TYPES: readonly QuantType[] = ["F32", "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0", "IQ4_XS", "Q3_K_M", "Q2_K"];

/** Bytes per KV cache element: llama.cpp's default cache type is F16 (others: contract/kv-cache.ts's kvElementBytes). */
export const KV_BYTES_PER_ELEMENT = 2;

/** The KV cache for `context` tokens: K and V, per layer, per KV head, per head dimension. */
export function kvCacheBytes(shape: ModelShape, context: number, bytesPerElement = KV_BYTES_PER_ELEMENT): number {
  return 2 * shape.layers * shape.kvHeads * shape.headDim * context * bytesPerElement;
}

/** The weights' size at a type's typical bits per weight (quant-table.ts). */
export function weightBytes(parameters: number, type: QuantType): number {
  return (parameters * QUANT_TYPES[type].bitsPerWeight) / 8;
}

/** A yes/no that is "not available" where the machine gave no reading. */
export type Fit = { fits: boolean; capacityBytes: number } | { fits: null; reason: "no_reading" | "no_gpu" };

export interface PlanRow {
  type: QuantType;
  bitsPerWeight: number;
  /** Weights at the type's typical bits per weight: the file's size, headers aside. */
  fileBytes: number;
  kvBytes: number;
  /** Weights plus the KV cache at the context; llama.cpp's compute buffers come on top. */
  memoryBytes: number;
  ram: Fit;
  vram: Fit;
  /** Bytes read per generated token: every weight once, and the KV cache full to the context. */
  bytesPerToken: number;
  /** bandwidth ÷ bytes per token: no generation can be faster on this machine; null without a bandwidth measurement. */
  tokensPerSecondBound: number | null;
}

export interface MachineCapacity {
  /** Total RAM, from the hardware monitor; null where there is no reading. */
  ramBytes: number | null;
  /** The largest GPU's total VRAM; null where there is no GPU reading. */
  vramBytes: number | null;
  /** False when the monitor saw no GPU: VRAM is then "not available" rather than zero. */
  hasGpu: boolean;
  /** Measured memory bandwidth (probeMemoryBandwidth), GB/s (10^9 bytes); null before it is measured. */
  bandwidthGBps: number | null;
}

export function planModel(
  shape: ModelShape,
  context: number,
  machine: MachineCapacity,
  options: { types?: readonly QuantType[]; kvBytesPerElement?: number } = {},
): PlanRow[] {
  const { types = PLANNER_TYPES, kvBytesPerElement = KV_BYTES_PER_ELEMENT } = options;
  const kvBytes = kvCacheBytes(shape, context, kvBytesPerElement);
  const fit = (need: number, capacity: number | null, missing: "no_reading" | "no_gpu"): Fit =>
    capacity === null ? { fits: null, reason: missing } : { fits: need <= capacity, capacityBytes: capacity };
  return types.map((type) => {
    const fileBytes = weightBytes(shape.parameters, type);
    const memoryBytes = fileBytes + kvBytes;
    const bytesPerToken = fileBytes + kvBytes;
    return {
      type,
      bitsPerWeight: QUANT_TYPES[type].bitsPerWeight,
      fileBytes,
      kvBytes,
      memoryBytes,
      ram: fit(memoryBytes, machine.ramBytes, "no_reading"),
      vram: machine.hasGpu ? fit(memoryBytes, machine.vramBytes, "no_reading") : { fits: null, reason: "no_gpu" },
      bytesPerToken,
      tokensPerSecondBound:
        machine.bandwidthGBps === null || machine.bandwidthGBps <= 0 ? null : (machine.bandwidthGBps * 1e9) / bytesPerToken,
    };
  });
}
