// The KV cache types Quanta offers and what one element of each occupies, as llama.cpp stores
// them (ggml's block layouts): the one table Will it fit, the Hardware view and the planner use.

import type { KvCacheType } from "./types.js";

/** The types offered, default first. */
export const KV_CACHE_TYPES = ["F16", "Q8_0", "Q4_0"] as const satisfies readonly KvCacheType[];

/** Quantized caches store 32 elements per block; a head size must be a multiple of it. */
export const KV_CACHE_BLOCK_SIZE = 32;

/** Bytes per block and elements per block of each type: F16 2 bytes each; Q8_0 32 int8 + an F16 scale; Q4_0 32 nibbles + an F16 scale. */
const LAYOUT: Record<KvCacheType, { blockBytes: number; blockElements: number }> = {
  F16: { blockBytes: 2, blockElements: 1 },
  Q8_0: { blockBytes: 34, blockElements: KV_CACHE_BLOCK_SIZE },
  Q4_0: { blockBytes: 18, blockElements: KV_CACHE_BLOCK_SIZE },
};

export function isKvCacheType(name: string): name is KvCacheType {
  return Object.hasOwn(LAYOUT, name);
}

/** Bytes one cached element occupies (fractional for the block types: 34/32 for Q8_0). */
export function kvElementBytes(type: KvCacheType): number {
  const { blockBytes, blockElements } = LAYOUT[type];
  return blockBytes / blockElements;
}
