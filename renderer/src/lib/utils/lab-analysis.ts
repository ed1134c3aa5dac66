// What a comparison run says, computed in the page: each variant's quality figure, the Pareto
// front of quality against size, the recommendation within a quality budget, and sorting.

import type { QuantVariantResult } from "../api/index.js";

export type QualityMetric = "kld" | "ppl";

/** Lower is better: mean KL divergence (0 for the reference), or perplexity ratio − 1. */
export function qualityLoss(variant: QuantVariantResult, metric: QualityMetric): number {
  if (metric === "kld") return variant.kld?.mean ?? 0;
  return variant.perplexityRatio - 1;
}

/**
 * Indices of the variants no other beats on both size and quality loss (smaller and no
 * worse, or no larger and better), ordered by size.
 */
export function paretoFront(points: ReadonlyArray<{ size: number; loss: number }>): number[] {
  const order = points.map((_, index) => index).sort((a, b) => points[a]!.size - points[b]!.size || points[a]!.loss - points[b]!.loss);
  const front: number[] = [];
  let bestLoss = Infinity;
  // From the smallest up, a variant is on the front when it is better than every smaller one.
  for (const index of order) {
    const point = points[index]!;
    if (point.loss < bestLoss) {
      front.push(index);
      bestLoss = point.loss;
    }
  }
  return front;
}

export type Recommendation =
  | { kind: "variant"; variant: QuantVariantResult }
  /** Nothing meets the budget and fits; the reference is the fallback when it fits. */
  | { kind: "none" };

/**
 * The system memory a variant needs: its measured footprint in RAM (weights on the CPU, KV cache,
 * compute buffers); where that is not available (runs saved before it was measured, which also
 * recorded 0 for some variants), its file size, the least its weights take.
 */
export function memoryNeed(variant: QuantVariantResult): number {
  return variant.ramBytes !== null && variant.ramBytes > 0 ? variant.ramBytes : variant.sizeBytes;
}

/** The smallest variant whose quality loss is within the budget and whose memory need fits in the machine's memory. */
export function recommend(
  variants: readonly QuantVariantResult[],
  metric: QualityMetric,
  budget: number,
  memoryBytes: number,
): Recommendation {
  const fitting = variants
    .filter((variant) => qualityLoss(variant, metric) <= budget)
    .filter((variant) => memoryNeed(variant) <= memoryBytes)
    .sort((a, b) => a.sizeBytes - b.sizeBytes);
  const best = fitting[0];
  return best ? { kind: "variant", variant: best } : { kind: "none" };
}

export type SortKey =
  | "fileName"
  | "sizeBytes"
  | "bitsPerWeight"
  | "perplexity"
  | "perplexityRatio"
  | "kldMean"
  | "kldMedian"
  | "kldP99"
  | "kldMax"
  | "sameTopRate"
  | "promptTokensPerSecond"
  | "generationTokensPerSecond"
  | "loadMs"
  | "ramBytes"
  | "vramBytes";

export function sortValue(variant: QuantVariantResult, key: SortKey): number | string {
  switch (key) {
    case "fileName":
      return variant.fileName;
    case "kldMean":
      return variant.kld?.mean ?? 0;
    case "kldMedian":
      return variant.kld?.median ?? 0;
    case "kldP99":
      return variant.kld?.p99 ?? 0;
    case "kldMax":
      return variant.kld?.max ?? 0;
    case "sameTopRate":
      return variant.sameTopRate ?? 1;
    case "ramBytes":
    case "vramBytes":
    case "promptTokensPerSecond":
    case "generationTokensPerSecond":
      // Not available (or not measured: a quality-only run) sorts below every figure, never as 0.
      return variant[key] ?? -1;
    default:
      return variant[key];
  }
}

export function sortVariants(variants: readonly QuantVariantResult[], key: SortKey, descending: boolean): QuantVariantResult[] {
  return sortEntries(variants, (variant) => variant, key, descending);
}

/** Sorts anything that carries a variant (a row of several runs) by one of its figures; ties keep their order. */
export function sortEntries<T>(entries: readonly T[], variantOf: (entry: T) => QuantVariantResult, key: SortKey, descending: boolean): T[] {
  const direction = descending ? -1 : 1;
  return [...entries].sort((a, b) => {
    const x = sortValue(variantOf(a), key);
    const y = sortValue(variantOf(b), key);
    const order = typeof x === "string" && typeof y === "string" ? x.localeCompare(y) : Number(x) - Number(y);
    return order * direction;
  });
}
