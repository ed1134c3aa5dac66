// What one generated token costs: arithmetic (FLOPs) and memory traffic (bytes), from the
// model's GGUF header, and how close a measured generation speed runs to the machine's memory
// bandwidth. Pure: a header and numbers in, numbers out.
//
// Why bytes matter most: to produce one token, a decoder multiplies one activation vector by
// every weight matrix once. Each weight is read from memory once and used in about two FLOPs
// (a multiply and an add), far fewer than a CPU or GPU can do per byte it loads, so generation
// one token at a time is bound by memory bandwidth: tokens/s ≈ bandwidth ÷ bytes per token.
// `fractionOfBandwidth` says how close to that ceiling a generation ran.

import type { BandwidthProbe, ComputeCost } from "../../contract/types.js";
import { describeGguf, type GgufHeader } from "../../common-node/gguf/gguf-reader.js";
import type { GgufValue } from "../../common-node/gguf/gguf-types.js";

/** llama.cpp's KV cache is F16 unless told otherwise: 2 bytes per element. */
export const DEFAULT_KV_BYTES_PER_ELEMENT = 2;

/** The parts of a model's shape that set its per-token cost. */
export interface ModelShape {
  parameterCount: number;
  /** Bytes of all tensor data (the weights as stored, quantized or not). */
  tensorBytes: number;
  tokenEmbedding: { parameters: number; bytes: number; rowBytes: number } | null;
  /** No output.weight: the output projection reuses the token embedding matrix (tied weights). */
  tiedOutput: boolean;
  layers: number;
  /**
   * Σ over layers of query heads × (key length + value length): the width attention works
   * over for each token of context. 0 when the header does not say (attention not counted).
   */
  attentionWidth: number;
  /** Σ over layers of KV heads × (key length + value length): KV cache elements per token of context. */
  kvWidth: number;
}

/** Reads the shape from a GGUF header (metadata keys of the model's architecture). */
export function modelShapeFromHeader(header: GgufHeader, fileName: string): ModelShape {
  const info = describeGguf(header, fileName);
  const embedding = header.tensors.find((tensor) => tensor.name === "token_embd.weight");
  const rows = embedding ? embedding.elementCount / (embedding.dims[0] ?? 1) : 0;
  const layers = info.layers ?? 0;

  let attentionWidth = 0;
  let kvWidth = 0;
  const arch = info.architecture;
  if (arch !== null && layers > 0) {
    const key = (suffix: string): GgufValue | undefined => header.metadata[`${arch}.${suffix}`];
    const heads = perLayer(key("attention.head_count"), layers);
    const kvHeads = perLayer(key("attention.head_count_kv"), layers) ?? heads;
    const keyLengthValue = positiveNumber(key("attention.key_length"));
    const valueLengthValue = positiveNumber(key("attention.value_length"));
    if (heads && kvHeads) {
      for (let layer = 0; layer < layers; layer += 1) {
        const h = heads[layer] ?? 0;
        const kv = kvHeads[layer] ?? 0;
        // Without key_length, a head is embedding_length / head_count wide (the usual layout).
        const fallback = h > 0 && info.embeddingLength ? info.embeddingLength / h : 0;
        const keyLength = keyLengthValue ?? fallback;
        const valueLength = valueLengthValue ?? keyLength;
        attentionWidth += h * (keyLength + valueLength);
        kvWidth += kv * (keyLength + valueLength);
      }
    }
  }

  return {
    parameterCount: info.parameterCount,
    tensorBytes: info.tensorBytes,
    tokenEmbedding: embedding
      ? { parameters: embedding.elementCount, bytes: embedding.byteSize, rowBytes: rows > 0 ? embedding.byteSize / rows : 0 }
      : null,
    tiedOutput: embedding !== undefined && !header.tensors.some((tensor) => tensor.name === "output.weight"),
    layers,
    attentionWidth,
    kvWidth,
  };
}

export interface TokenCost {
  flopsPerToken: number;
  bytesPerToken: number;
}

/**
 * The cost of generating one token with `contextUsed` tokens already in the context.
 *
 * FLOPs: every weight takes part in one multiply-add (2 FLOPs) per token, except the token
 * embedding, which is a table lookup (no arithmetic) — unless the output projection reuses it
 * (tied weights), which multiplies by all of it. Attention adds, per layer and head, a dot
 * product of the query with every cached key and a weighted sum of every cached value: 2 FLOPs
 * per element of each, i.e. 2 × context × heads × (key length + value length), which is
 * 4 × layers × context × heads × head_dim in the common case. Norms, activations and softmax
 * are a few FLOPs per activation, not per weight: left out.
 *
 * Bytes: every weight matrix is read once per token (that is what makes decoding memory-bound),
 * except the token embedding, of which only the one row for this token is read (all of it when
 * it doubles as the output projection). The KV cache read for attention adds context ×
 * KV heads × (key length + value length) elements per layer, F16 (2 bytes) by default.
 */
export function tokenCost(shape: ModelShape, contextUsed: number, kvBytesPerElement = DEFAULT_KV_BYTES_PER_ELEMENT): TokenCost {
  const context = Math.max(0, contextUsed);
  const embedding = shape.tokenEmbedding;
  const embeddingParameters = embedding?.parameters ?? 0;
  const matmulParameters = shape.parameterCount - (shape.tiedOutput ? 0 : embeddingParameters);
  const flopsPerToken = 2 * matmulParameters + 2 * context * shape.attentionWidth;

  let weightBytes = shape.tensorBytes;
  if (embedding) weightBytes += shape.tiedOutput ? embedding.rowBytes : embedding.rowBytes - embedding.bytes;
  const kvBytes = context * shape.kvWidth * kvBytesPerElement;
  return { flopsPerToken, bytesPerToken: weightBytes + kvBytes };
}

export interface ComputeCostInput {
  modelId: string;
  shape: ModelShape;
  contextUsed: number;
  /** The latest measured generation speed; null before any reply. */
  tokensPerSecond: number | null;
  bandwidth: BandwidthProbe | null;
  /**
   * Layers run on a GPU: then the weights are read from VRAM, and the RAM bandwidth probe is
   * not the ceiling, so no fraction is given.
   */
  gpuLayers: number;
}

export function computeCost(input: ComputeCostInput): ComputeCost {
  const { flopsPerToken, bytesPerToken } = tokenCost(input.shape, input.contextUsed);
  const rate = input.tokensPerSecond !== null && input.tokensPerSecond > 0 ? input.tokensPerSecond : null;
  const achievedGflops = rate === null ? null : (flopsPerToken * rate) / 1e9;
  const achievedGBps = rate === null ? null : (bytesPerToken * rate) / 1e9;
  const fractionOfBandwidth =
    achievedGBps !== null && input.bandwidth && input.bandwidth.gbPerSecond > 0 && input.gpuLayers === 0
      ? achievedGBps / input.bandwidth.gbPerSecond
      : null;
  return {
    modelId: input.modelId,
    parameterCount: input.shape.parameterCount,
    flopsPerToken,
    bytesPerToken,
    contextUsed: input.contextUsed,
    tokensPerSecond: rate,
    achievedGflops,
    achievedGBps,
    bandwidth: input.bandwidth,
    fractionOfBandwidth,
  };
}

/** A per-layer count: a number for all layers, or an array with one per layer. */
function perLayer(value: GgufValue | undefined, layers: number): number[] | null {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return new Array<number>(layers).fill(value);
  if (Array.isArray(value) && value.length === layers && value.every((item) => typeof item === "number" && item >= 0)) {
    return value as number[];
  }
  return null;
}

function positiveNumber(value: GgufValue | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}
