// FLOPs and bytes per token, checked against numbers worked out by hand for a small synthetic
// llama (2 layers, n_embd 64, 4 heads of 16, 2 KV heads, vocab 100, ffn 128, all F32).

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { computeCost, modelShapeFromHeader, tokenCost, type ModelShape } from "../../electron/core/monitor/compute-cost.js";
import { writeGguf, type GgufTensorSpec, type GgufTypedValue } from "../fixtures/gguf-writer.js";
import { tempDir } from "../support/paths.js";

let folder: string;

function tensors(tied: boolean): GgufTensorSpec[] {
  const list: GgufTensorSpec[] = [{ name: "token_embd.weight", dims: [64, 100], type: "F32" }];
  for (let layer = 0; layer < 2; layer += 1) {
    const blk = `blk.${layer}`;
    list.push(
      { name: `${blk}.attn_norm.weight`, dims: [64], type: "F32" },
      { name: `${blk}.attn_q.weight`, dims: [64, 64], type: "F32" },
      { name: `${blk}.attn_k.weight`, dims: [64, 32], type: "F32" },
      { name: `${blk}.attn_v.weight`, dims: [64, 32], type: "F32" },
      { name: `${blk}.attn_output.weight`, dims: [64, 64], type: "F32" },
      { name: `${blk}.ffn_norm.weight`, dims: [64], type: "F32" },
      { name: `${blk}.ffn_gate.weight`, dims: [64, 128], type: "F32" },
      { name: `${blk}.ffn_up.weight`, dims: [64, 128], type: "F32" },
      { name: `${blk}.ffn_down.weight`, dims: [128, 64], type: "F32" },
    );
  }
  list.push({ name: "output_norm.weight", dims: [64], type: "F32" });
  if (!tied) list.push({ name: "output.weight", dims: [64, 100], type: "F32" });
  return list;
}

function metadata(extra: Array<[string, GgufTypedValue]> = []): Array<[string, GgufTypedValue]> {
  return [
    ["general.architecture", { type: "string", value: "llama" }],
    ["llama.block_count", { type: "uint32", value: 2 }],
    ["llama.embedding_length", { type: "uint32", value: 64 }],
    ["llama.attention.head_count", { type: "uint32", value: 4 }],
    ["llama.attention.head_count_kv", { type: "uint32", value: 2 }],
    ...extra,
  ];
}

async function shapeOf(name: string, tied: boolean, extra: Array<[string, GgufTypedValue]> = []): Promise<ModelShape> {
  const file = path.join(folder, name);
  await writeGguf(file, { metadata: metadata(extra), tensors: tensors(tied) });
  return modelShapeFromHeader(await readGgufHeader(file), file);
}

beforeAll(async () => {
  folder = await tempDir("compute-cost");
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

// Parameters: token_embd 6400; per layer q 4096 + k 2048 + v 2048 + o 4096 + 3 × 8192 (ffn)
// + 2 × 64 (norms) = 36,992, two layers 73,984; output_norm 64; output 6400. Total 86,848.
// Head width 64 / 4 = 16. Attention width Σ heads × (k + v) = 2 × 4 × 32 = 256;
// KV width Σ kv_heads × (k + v) = 2 × 2 × 32 = 128.
describe("the cost of one token", () => {
  it("reads the shape from the GGUF header", async () => {
    const shape = await shapeOf("untied.gguf", false);
    expect(shape).toEqual({
      parameterCount: 86_848,
      tensorBytes: 86_848 * 4,
      tokenEmbedding: { parameters: 6400, bytes: 25_600, rowBytes: 256 },
      tiedOutput: false,
      layers: 2,
      attentionWidth: 256,
      kvWidth: 128,
    });
  });

  it("counts 2 FLOPs per weight except the embedding lookup, plus attention over the context", async () => {
    const shape = await shapeOf("untied-cost.gguf", false);
    const cost = tokenCost(shape, 10);
    // 2 × (86,848 − 6,400) + 4 × layers 2 × context 10 × heads 4 × head_dim 16 = 160,896 + 5,120
    expect(cost.flopsPerToken).toBe(166_016);
    // all weights 347,392 − embedding 25,600 + one row 256 + KV 2 × 2 layers × 10 × 2 kv heads × 16 × 2 bytes (F16) = 2,560
    expect(cost.bytesPerToken).toBe(324_608);
    expect(tokenCost(shape, 0)).toEqual({ flopsPerToken: 160_896, bytesPerToken: 322_048 });
  });

  it("counts the whole embedding when the output projection reuses it (tied weights)", async () => {
    const shape = await shapeOf("tied.gguf", true);
    expect(shape.tiedOutput).toBe(true);
    // 80,448 parameters, all multiplied (the embedding as the output projection); all read, plus the looked-up row.
    expect(tokenCost(shape, 10)).toEqual({ flopsPerToken: 2 * 80_448 + 5120, bytesPerToken: 80_448 * 4 + 256 + 2560 });
  });

  it("uses key_length and value_length when the header gives them", async () => {
    const shape = await shapeOf("explicit-heads.gguf", false, [
      ["llama.attention.key_length", { type: "uint32", value: 8 }],
      ["llama.attention.value_length", { type: "uint32", value: 24 }],
    ]);
    expect(shape.attentionWidth).toBe(2 * 4 * (8 + 24));
    expect(shape.kvWidth).toBe(2 * 2 * (8 + 24));
  });

  it("gives achieved GFLOP/s, GB/s and the share of the measured bandwidth", async () => {
    const shape = await shapeOf("achieved.gguf", false);
    const bandwidth = { gbPerSecond: 10, bytesMoved: 1, measuredAt: "2026-01-01T00:00:00.000Z" };
    const cost = computeCost({ modelId: "m", shape, contextUsed: 10, tokensPerSecond: 100, bandwidth, gpuLayers: 0 });
    expect(cost.achievedGflops).toBeCloseTo(0.0166016, 12);
    expect(cost.achievedGBps).toBeCloseTo(0.0324608, 12);
    expect(cost.fractionOfBandwidth).toBeCloseTo(0.00324608, 12);
    expect(cost.parameterCount).toBe(86_848);

    const before = computeCost({ modelId: "m", shape, contextUsed: 0, tokensPerSecond: null, bandwidth, gpuLayers: 0 });
    expect(before).toMatchObject({ tokensPerSecond: null, achievedGflops: null, achievedGBps: null, fractionOfBandwidth: null });
    // Weights on a GPU are not bound by RAM bandwidth: no fraction against the RAM probe.
    const offloaded = computeCost({ modelId: "m", shape, contextUsed: 10, tokensPerSecond: 100, bandwidth, gpuLayers: 2 });
    expect(offloaded.fractionOfBandwidth).toBeNull();
    expect(offloaded.achievedGBps).not.toBeNull();
  });
});
