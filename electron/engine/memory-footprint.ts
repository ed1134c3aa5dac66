// The one place that says what a model occupies (weights, KV cache, compute buffers, layers),
// for a loaded model and context (read from llama.cpp's own buffers) and for an estimate.
// Will it fit, the Hardware view and the Lab all take their figures from here.

import type { GgufInsights, LlamaContext, LlamaModel } from "node-llama-cpp";
import type { MemoryFootprint } from "../contract/types.js";

/** Bytes per element of the KV cache: llama.cpp's default F16 keys and values. */
const KV_ELEMENT_BYTES = 2;

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
export function kvCacheBytes(insights: GgufInsights, cells: number): number | null {
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
  let elements = 0;
  for (let layer = 0; layer < layers; layer++) {
    const heads = perLayer(attention.head_count, layer, 0);
    const kvHeads = perLayer(attention.head_count_kv, layer, heads);
    const headSize = heads > 0 && meta.embedding_length ? meta.embedding_length / heads : 0;
    const keySize = attention.key_length ?? headSize;
    const valueSize = attention.value_length ?? headSize;
    elements += kvHeads * (keySize + valueSize);
  }
  if (elements <= 0) return null;
  return elements * cells * KV_ELEMENT_BYTES;
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
    (await insights.estimateContextResourceRequirementsV2({ contextSize: context.contextSize, modelGpuLayers: model.gpuLayers }));
  return composeFootprint({
    weights,
    context: buffers,
    kvCacheBytes: kvCacheBytes(insights, context.contextSize),
    hasGpu,
    totalLayers: insights.totalLayers,
    gpuLayers: model.gpuLayers,
  });
}

/** The same footprint, estimated by llama.cpp for a model not loaded, at a context size and layer count. */
export async function estimateFootprint(
  insights: GgufInsights,
  contextSize: number,
  gpuLayers: number,
  hasGpu: boolean,
): Promise<MemoryFootprint> {
  const weights = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
  const context = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: gpuLayers });
  return composeFootprint({
    weights,
    context,
    kvCacheBytes: kvCacheBytes(insights, contextSize),
    hasGpu,
    totalLayers: insights.totalLayers,
    gpuLayers,
  });
}
