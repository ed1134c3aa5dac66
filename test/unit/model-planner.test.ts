// The planner's arithmetic against figures worked out by hand.

import { describe, expect, it } from "vitest";
import { GPT3_175B, kvCacheBytes, planModel, shapeFromParameters, weightBytes } from "../../electron/common/model-planner.js";
import { kvElementBytes } from "../../electron/contract/kv-cache.js";

const noMachine = { ramBytes: null, vramBytes: null, hasGpu: false, bandwidthGBps: null };

describe("what a model would take", () => {
  it("sizes GPT-3's weights: 350 GB at F16, 186 GB at Q8_0, Q4_K_M between 4.5 and 4.9 bits per weight", () => {
    expect(weightBytes(175e9, "F16")).toBe(350e9);
    expect(weightBytes(175e9, "Q8_0")).toBe(185.9375e9);
    const q4 = weightBytes(175e9, "Q4_K_M");
    expect((q4 * 8) / 175e9).toBeGreaterThanOrEqual(4.5);
    expect((q4 * 8) / 175e9).toBeLessThanOrEqual(4.9);
  });

  it("counts the KV cache: GPT-3 at 2,048 tokens is 2 × 96 × 96 × 128 × 2,048 × 2 bytes = 9.66 GB", () => {
    expect(kvCacheBytes(GPT3_175B, 2048)).toBe(2 * 96 * 96 * 128 * 2048 * 2);
    expect(kvCacheBytes(GPT3_175B, 2048)).toBe(9_663_676_416);
  });

  it("derives GPT-3's and Llama 2 7B's shapes from their parameter counts by the rule of thumb", () => {
    expect(shapeFromParameters(175e9)).toMatchObject({ layers: 96, embedding: 12288, heads: 96, kvHeads: 8, headDim: 128 });
    // Llama 2 7B's blocks: 12 × 32 × 4,096² = 6.44B of its 6.7B (the rest are embeddings).
    expect(shapeFromParameters(6.44e9)).toMatchObject({ layers: 32, embedding: 4096, heads: 32 });
    const small = shapeFromParameters(0.5e9);
    expect(small.layers).toBeGreaterThanOrEqual(10);
    expect(small.kvHeads).toBeLessThanOrEqual(small.heads);
  });

  it("fits, and bounds the speed by bandwidth ÷ bytes read per token", () => {
    const machine = { ramBytes: 256e9, vramBytes: 80e9, hasGpu: true, bandwidthGBps: 100 };
    const rows = planModel(GPT3_175B, 2048, machine, { types: ["F16", "Q8_0", "Q4_K_M"] });
    const [f16, q8, q4] = rows;
    expect(f16?.memoryBytes).toBe(350e9 + 9_663_676_416);
    expect(f16?.ram).toEqual({ fits: false, capacityBytes: 256e9 });
    expect(q8?.ram).toEqual({ fits: true, capacityBytes: 256e9 });
    expect(q4?.vram.fits).toBe(false);
    // 100 GB/s over 359.66 GB a token: 0.278 tokens per second at most.
    expect(f16?.tokensPerSecondBound).toBeCloseTo(100e9 / (350e9 + 9_663_676_416), 6);
    expect(q4!.tokensPerSecondBound!).toBeGreaterThan(q8!.tokensPerSecondBound!);
  });

  it("sizes the KV cache by the cache type chosen, as llama.cpp stores it", () => {
    const machine = { ramBytes: 256e9, vramBytes: null, hasGpu: false, bandwidthGBps: 100 };
    const [f16] = planModel(GPT3_175B, 2048, machine, { types: ["Q4_K_M"] });
    const [q8] = planModel(GPT3_175B, 2048, machine, { types: ["Q4_K_M"], kvBytesPerElement: kvElementBytes("Q8_0") });
    const [q4] = planModel(GPT3_175B, 2048, machine, { types: ["Q4_K_M"], kvBytesPerElement: kvElementBytes("Q4_0") });
    // Q8_0: 34 bytes per 32 elements; Q4_0: 18.
    expect(q8?.kvBytes).toBe((9_663_676_416 / 2) * (34 / 32));
    expect(q4?.kvBytes).toBe((9_663_676_416 / 2) * (18 / 32));
    expect(q8!.memoryBytes).toBe(f16!.memoryBytes - f16!.kvBytes + q8!.kvBytes);
    // Fewer bytes read per token: a higher bound.
    expect(q4!.tokensPerSecondBound!).toBeGreaterThan(f16!.tokensPerSecondBound!);
  });

  it("says VRAM and speed are not available without a GPU or a bandwidth measurement", () => {
    const [row] = planModel(GPT3_175B, 2048, noMachine, { types: ["Q4_K_M"] });
    expect(row?.vram).toEqual({ fits: null, reason: "no_gpu" });
    expect(row?.ram).toEqual({ fits: null, reason: "no_reading" });
    expect(row?.tokensPerSecondBound).toBeNull();
  });
});
