// The one place that says what a model occupies (weights, KV cache, compute buffers, layers),
// for a loaded model and context (read from llama.cpp's own buffers) and for an estimate.
// Will it fit, the Hardware view and the Lab all take their figures from here.

import { GgmlType, type GgufInsights, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import type { FitOptions } from "../contract/api.js";
import { isKvCacheType, kvElementBytes } from "../contract/kv-cache.js";
import type { KvCacheType, MemoryFootprint } from "../contract/types.js";

/** The types of the cache's keys and values. */
export interface KvCacheTypes {
  key: KvCacheType;
  value: KvCacheType;
}

const F16_CACHE: KvCacheTypes = { key: "F16", value: "F16" };

/** llama.cpp's name of a ggml type ("Q8_0"); its number for a type this node-llama-cpp does not name. */
export function ggmlTypeName(type: GgmlType): string {
  // A numeric enum's reverse mapping is undefined for a number it does not name.
  const name = (GgmlType as unknown as Record<number, string | undefined>)[type];
  return name ?? String(type);
}

/** The name of a ggml type when it is one the KV cache table knows; else null. */
export function kvCacheTypeName(type: GgmlType): KvCacheType | null {
  const name = ggmlTypeName(type);
  return isKvCacheType(name) ? name : null;
}

/** The context options of the load options a footprint is sized by, in node-llama-cpp's terms. */
export function contextOptions(options: FitOptions): {
  flashAttention: "auto" | boolean;
  kvCacheKeyType: GgmlType;
  kvCacheValueType: GgmlType;
  batchSize?: number;
} {
  const type = GgmlType[options.kvCacheType ?? "F16"];
  const flash = options.flashAttention ?? "auto";
  return {
    flashAttention: flash === "auto" ? "auto" : flash === "on",
    kvCacheKeyType: type,
    kvCacheValueType: type,
    ...(options.batchSize == null ? {} : { batchSize: options.batchSize }),
  };
}

/** Bytes by place, as llama.cpp's memory breakdown reports them. */
interface Placement {
  cpuRam: number;
  gpuVram: number;
}

/** node-llama-cpp's native handles keep llama.cpp's per-buffer breakdown (not in its typings). */
interface WithBreakdown {
  getMemoryBreakdown(): Placement;
}

function breakdownOf(handle: unknown): Placement | null {
  if (typeof handle !== "object" || handle === null) return null;
  const read = (handle as Partial<WithBreakdown>).getMemoryBreakdown;
  if (typeof read !== "function") return null;
  try {
    const placement = read.call(handle);
    return Number.isFinite(placement.cpuRam) && Number.isFinite(placement.gpuVram) ? placement : null;
  } catch {
    return null;
  }
}

const perLayer = (value: number | readonly number[] | undefined, layer: number, fallback: number): number =>
  typeof value === "number" ? value : Array.isArray(value) ? ((value as readonly number[])[layer] ?? fallback) : fallback;

/**
 * The KV cache for `cells` positions, as llama.cpp sizes it (llama_kv_cache: every layer keeps
 * n_head_kv × head size keys and values per cell). Null for models whose cache is not that
 * (recurrent state, sliding-window layers): their figure would be a guess.
 */
export function kvCacheBytes(insights: GgufInsights, cells: number, types: KvCacheTypes = F16_CACHE): number | null {
  const meta = insights.ggufFileInfo.architectureMetadata as {
    block_count?: number;
    embedding_length?: number;
    ssm?: unknown;
    attention?: {
      head_count?: number | number[];
      head_count_kv?: number | number[];
      key_length?: number;
      value_length?: number;
      sliding_window?: number;
    };
  };
  const layers = meta.block_count ?? 0;
  const attention = meta.attention;
  if (layers <= 0 || !attention || meta.ssm !== undefined || attention.sliding_window !== undefined) return null;
  let bytesPerCell = 0;
  for (let layer = 0; layer < layers; layer++) {
    const heads = perLayer(attention.head_count, layer, 0);
    const kvHeads = perLayer(attention.head_count_kv, layer, heads);
    const headSize = heads > 0 && meta.embedding_length ? meta.embedding_length / heads : 0;
    const keySize = attention.key_length ?? headSize;
    const valueSize = attention.value_length ?? headSize;
    bytesPerCell += kvHeads * (keySize * kvElementBytes(types.key) + valueSize * kvElementBytes(types.value));
  }
  if (bytesPerCell <= 0) return null;
  return bytesPerCell * cells;
}

/** Puts weights and context (KV cache + compute buffers) together into the one footprint. */
export function composeFootprint(options: {
  weights: Placement;
  /** The context's buffers: KV cache and compute buffers together. */
  context: Placement;
  kvCacheBytes: number | null;
  hasGpu: boolean;
  totalLayers: number;
  gpuLayers: number;
}): MemoryFootprint {
  const { weights, context } = options;
  const contextBytes = context.cpuRam + context.gpuVram;
  const kv = options.kvCacheBytes !== null && options.kvCacheBytes <= contextBytes ? options.kvCacheBytes : null;
  return {
    weightsBytes: weights.cpuRam + weights.gpuVram,
    kvCacheBytes: kv,
    computeBytes: kv === null ? null : contextBytes - kv,
    ramBytes: weights.cpuRam + context.cpuRam,
    vramBytes: options.hasGpu ? weights.gpuVram + context.gpuVram : null,
    totalLayers: options.totalLayers,
    gpuLayers: Math.min(options.gpuLayers, options.totalLayers),
  };
}

/**
 * What a loaded model and one of its contexts occupy, read from llama.cpp's buffers. Falls back
 * to node-llama-cpp's estimate of the same buffers where the breakdown cannot be read.
 */
export async function measureFootprint(model: LlamaModel, context: LlamaContext, hasGpu: boolean): Promise<MemoryFootprint> {
  const insights = model.fileInsights;
  const weights =
    breakdownOf((model as unknown as { _model?: unknown })._model) ??
    (await insights.estimateModelResourceRequirementsV2({ gpuLayers: model.gpuLayers }));
  const buffers =
    breakdownOf((context as unknown as { _ctx?: unknown })._ctx) ??
    (await insights.estimateContextResourceRequirementsV2({
      contextSize: context.contextSize,
      modelGpuLayers: model.gpuLayers,
      batchSize: context.batchSize,
      flashAttention: context.flashAttention,
      kvCacheKeyType: context.kvCacheKeyType,
      kvCacheValueType: context.kvCacheValueType,
    }));
  // The cache's types as the context reports them: a type the table does not know makes the figure "not available".
  const key = kvCacheTypeName(context.kvCacheKeyType);
  const value = kvCacheTypeName(context.kvCacheValueType);
  return composeFootprint({
    weights,
    context: buffers,
    kvCacheBytes: key === null || value === null ? null : kvCacheBytes(insights, context.contextSize, { key, value }),
    hasGpu,
    totalLayers: insights.totalLayers,
    gpuLayers: model.gpuLayers,
  });
}

/**
 * The same footprint, estimated by llama.cpp for a model not loaded, at a context size and layer
 * count, with the load options that size the context (KV cache type, flash attention, batch size).
 */
export async function estimateFootprint(
  insights: GgufInsights,
  contextSize: number,
  gpuLayers: number,
  hasGpu: boolean,
  options: FitOptions = {},
): Promise<MemoryFootprint> {
  const weights = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
  const context = await insights.estimateContextResourceRequirementsV2({
    contextSize,
    modelGpuLayers: gpuLayers,
    ...contextOptions(options),
  });
  const type = options.kvCacheType ?? "F16";
  return composeFootprint({
    weights,
    context,
    kvCacheBytes: kvCacheBytes(insights, contextSize, { key: type, value: type }),
    hasGpu,
    totalLayers: insights.totalLayers,
    gpuLayers,
  });
}
