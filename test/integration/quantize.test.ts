// llama.cpp's quantizer, reached through FFI: a synthetic F32 llama (dimensions a multiple
// of 256, so K-quants are real) quantized to three types, read back, and loaded.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeGguf, readGgufHeader } from "../../electron/core/library/gguf-reader.js";
import { quantizeModel, type QuantType } from "../../electron/engine/quantize.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let folder: string;
let source: string;

beforeAll(async () => {
  folder = await tempDir("quantize");
  source = path.join(folder, "synthetic-F32.gguf");
  await writeSyntheticLlama(source, {
    tokenizerFrom: STORIES_MODEL,
    embeddingLength: 256,
    layers: 2,
    feedForwardLength: 512,
    heads: 4,
    type: "F32",
    seed: 3,
    name: "synthetic",
  });
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

describe("quantizing with llama.cpp's quantizer", () => {
  const outputs = new Map<QuantType, string>();

  it.each([
    ["Q8_0", ["Q8_0"]],
    ["Q4_K_M", ["Q4_K", "Q6_K"]],
    ["Q2_K", ["Q2_K", "Q3_K", "Q4_K", "Q6_K"]],
  ] as const)("makes a %s file whose weights are of the types llama.cpp chooses for it", async (type, weightTypes) => {
    const output = path.join(folder, `synthetic-${type}.gguf`);
    const result = await quantizeModel({ input: source, output, type });
    expect(result.bytes).toBe((await fs.stat(output)).size);
    expect(existsSync(`${output}.part`)).toBe(false);
    outputs.set(type, output);

    const info = describeGguf(await readGgufHeader(output), output);
    expect(info.fileType).toBe(type);
    const header = await readGgufHeader(output);
    for (const tensor of header.tensors.filter((t) => t.dims.length === 2)) {
      expect(weightTypes as readonly string[]).toContain(tensor.type);
    }
  });

  it("gets smaller as bits fall, and the Q4_K_M file loads and generates", async () => {
    const bits = await Promise.all(
      (["Q8_0", "Q4_K_M", "Q2_K"] as const).map(async (type) => {
        const file = outputs.get(type);
        if (!file) throw new Error(`${type} was not made`);
        return describeGguf(await readGgufHeader(file), file).bitsPerWeight;
      }),
    );
    expect(bits[0]).toBeGreaterThan(bits[1] ?? Infinity);
    expect(bits[1]).toBeGreaterThan(bits[2] ?? Infinity);

    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: outputs.get("Q4_K_M") ?? "" });
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    const tokens: number[] = [];
    for await (const token of context.getSequence().evaluate(model.tokenize("Once upon a time"), { temperature: 0 })) {
      tokens.push(token);
      if (tokens.length >= 8) break;
    }
    expect(tokens).toHaveLength(8);
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  });

  it("refuses a source that is already quantized, saying why", async () => {
    const low = outputs.get("Q4_K_M") ?? "";
    await expect(quantizeModel({ input: low, output: path.join(folder, "again.gguf"), type: "Q2_K" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("already quantized (Q4_K_M)"),
    });
  });

  it("refuses to overwrite, and leaves nothing behind when llama.cpp cannot write", async () => {
    const existing = outputs.get("Q8_0") ?? "";
    await expect(quantizeModel({ input: source, output: existing, type: "Q8_0" })).rejects.toMatchObject({ code: "invalid_request" });
    const nowhere = path.join(folder, "missing-folder", "out.gguf");
    await expect(quantizeModel({ input: source, output: nowhere, type: "Q8_0" })).rejects.toMatchObject({ code: "internal" });
    expect(existsSync(`${nowhere}.part`)).toBe(false);
    expect(existsSync(nowhere)).toBe(false);
  });
});
