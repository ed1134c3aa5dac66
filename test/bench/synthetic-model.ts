// The synthetic ~134M-parameter llama quantized to Q4_K_M that the benchmarks run on: made
// once and cached in QUANTA_BENCH_CACHE (default the OS temp folder's quanta-bench).

import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { quantizeModel } from "../../electron/engine/quantize.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { TINY_RANDOM_MODEL } from "../support/paths.js";

export function benchCache(): string {
  return process.env.QUANTA_BENCH_CACHE ?? path.join(os.tmpdir(), "quanta-bench");
}

export async function syntheticQ4(): Promise<string> {
  const cache = benchCache();
  const folder = path.join(cache, "synthetic-134m");
  const q4 = path.join(folder, "synthetic-134m-Q4_K_M.gguf");
  if (existsSync(q4)) return q4;
  await fs.mkdir(folder, { recursive: true });
  const f16 = path.join(cache, "synthetic-134m-F16.gguf");
  console.log("Making the synthetic 134M model (once; cached in", cache, ")");
  await writeSyntheticLlama(f16, {
    tokenizerFrom: TINY_RANDOM_MODEL,
    embeddingLength: 768,
    layers: 12,
    feedForwardLength: 2048,
    heads: 12,
    contextLength: 2048,
    type: "F16",
    seed: 134,
    name: "synthetic-134m",
  });
  await quantizeModel({ input: f16, output: q4, type: "Q4_K_M" });
  await fs.rm(f16, { force: true });
  return q4;
}
