import { describe, expect, it } from "vitest";
import type { QuantVariantResult } from "../api/index.js";
import { paretoFront, qualityLoss, recommend, sortVariants } from "./lab-analysis.js";

function variant(
  fileName: string,
  sizeBytes: number,
  kld: number | null,
  ratio: number,
  ramBytes: number | null = sizeBytes,
): QuantVariantResult {
  return {
    modelId: null,
    name: fileName,
    fileName,
    fileType: fileName,
    sizeBytes,
    parameterCount: 1000,
    bitsPerWeight: (sizeBytes * 8) / 1000,
    isReference: kld === null,
    loadMs: 1,
    ramBytes,
    vramBytes: null,
    threads: 1,
    promptTokens: 512,
    promptTokensPerSecond: 100,
    generatedTokens: 128,
    generationTokensPerSecond: 10,
    perplexity: 10 * ratio,
    perplexityRatio: ratio,
    kld: kld === null ? null : { mean: kld, median: kld, p99: kld, max: kld },
    sameTopRate: kld === null ? null : 0.9,
    scoredTokens: 100,
  };
}

const f16 = variant("F16", 1600, null, 1);
const q8 = variant("Q8_0", 850, 0.001, 1.001);
const q4 = variant("Q4_K_M", 490, 0.03, 1.02);
const q4s = variant("Q4_K_S", 470, 0.05, 1.04);
const q3 = variant("Q3_K_M", 400, 0.2, 1.1);
const bad = variant("Q4_0", 500, 0.06, 1.05); // larger and worse than Q4_K_S: off the front

describe("the lab's analysis", () => {
  it("takes KLD or the perplexity ratio as the quality loss", () => {
    expect(qualityLoss(q4, "kld")).toBe(0.03);
    expect(qualityLoss(q4, "ppl")).toBeCloseTo(0.02);
    expect(qualityLoss(f16, "kld")).toBe(0);
  });

  it("draws the Pareto front through the variants nothing beats on both size and quality", () => {
    const all = [f16, q8, q4, q4s, q3, bad];
    const front = paretoFront(all.map((v) => ({ size: v.sizeBytes, loss: qualityLoss(v, "kld") })));
    expect(front.map((index) => all[index]!.fileName)).toEqual(["Q3_K_M", "Q4_K_S", "Q4_K_M", "Q8_0", "F16"]);
  });

  it("recommends the smallest variant within the budget that fits in memory", () => {
    const all = [f16, q8, q4, q4s, q3];
    expect(recommend(all, "kld", 0.04, 10_000)).toEqual({ kind: "variant", variant: q4 });
    expect(recommend(all, "kld", 0.5, 10_000)).toEqual({ kind: "variant", variant: q3 });
    expect(recommend(all, "kld", 0.04, 480)).toEqual({ kind: "none" });
    expect(recommend(all, "ppl", 0.0015, 10_000)).toEqual({ kind: "variant", variant: q8 });
  });

  it("judges memory by the measured footprint, and by the file size where none was measured", () => {
    // Measured: the KV cache and compute buffers make this 490-byte file need 900 bytes of RAM.
    const heavy = variant("Q4_K_M", 490, 0.03, 1.02, 900);
    expect(recommend([f16, heavy], "kld", 0.04, 800)).toEqual({ kind: "none" });
    expect(recommend([f16, heavy], "kld", 0.04, 1000)).toEqual({ kind: "variant", variant: heavy });
    // Not measured (null), or the 0 runs saved before recorded: the file size is the least it needs.
    for (const ram of [null, 0]) {
      const unmeasured = variant("Q4_K_M", 490, 0.03, 1.02, ram);
      expect(recommend([unmeasured], "kld", 0.04, 480)).toEqual({ kind: "none" });
      expect(recommend([unmeasured], "kld", 0.04, 500)).toEqual({ kind: "variant", variant: unmeasured });
    }
  });

  it("sorts by any column, both ways", () => {
    expect(sortVariants([q8, q3, q4], "sizeBytes", false).map((v) => v.fileName)).toEqual(["Q3_K_M", "Q4_K_M", "Q8_0"]);
    expect(sortVariants([q8, q3, q4], "kldMean", true).map((v) => v.fileName)).toEqual(["Q3_K_M", "Q4_K_M", "Q8_0"]);
    expect(sortVariants([q8, q3, q4], "fileName", false).map((v) => v.fileName)).toEqual(["Q3_K_M", "Q4_K_M", "Q8_0"]);
  });

  it("never takes a speed not measured (a quality-only run) as 0: the recommendation ignores it, sorting puts it last", () => {
    const unmeasured = (v: QuantVariantResult): QuantVariantResult => ({
      ...v,
      promptTokens: null,
      promptTokensPerSecond: null,
      generatedTokens: null,
      generationTokensPerSecond: null,
    });
    const all = [f16, q8, q4, q4s, q3];
    expect(recommend(all.map(unmeasured), "kld", 0.04, 10_000)).toEqual({ kind: "variant", variant: unmeasured(q4) });
    const mixed = [unmeasured(q8), q3, q4];
    expect(sortVariants(mixed, "generationTokensPerSecond", true).map((v) => v.fileName)).toEqual(["Q3_K_M", "Q4_K_M", "Q8_0"]);
    expect(sortVariants(mixed, "promptTokensPerSecond", false).map((v) => v.fileName)).toEqual(["Q8_0", "Q3_K_M", "Q4_K_M"]);
  });
});
