// llama.cpp's quantizer, reached through FFI: a synthetic F32 llama (dimensions a multiple
// of 256, so K-quants are real) quantized to three types, read back, and loaded; then the
// refusals, and a failure inside llama.cpp that must leave nothing behind.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeGguf, readGgufHeader, type GgufTensorInfo } from "../../electron/common-node/gguf/gguf-reader.js";
import { QUANT_TYPES, type QuantType } from "../../electron/common-node/gguf/quant-types.js";
import { getBackend } from "../../electron/engine/model-session.js";
import { loadedLlamaLibraries, openNativeLlama } from "../../electron/engine/native/llama-library.js";
import { quantizeModel, type QuantizeProgress } from "../../electron/engine/quantize.js";
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

/** The tensors llama.cpp quantizes: two-dimensional weights. */
const isMatrix = (tensor: GgufTensorInfo): boolean => tensor.dims.length === 2;

const K_QUANTS = new Set(["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]);

describe("llama.cpp's library", () => {
  it("is the build node-llama-cpp chose and loaded, opened once more: never a second copy in the process", async () => {
    const llama = await getBackend();
    const native = await openNativeLlama();
    expect(existsSync(native.file)).toBe(true);
    // The folder is that of node-llama-cpp's build for its backend: linux-x64, linux-x64-cuda, mac-arm64-metal, ...
    const folder = path.basename(path.dirname(native.file));
    if (llama.gpu !== false) expect(folder).toContain(llama.gpu);
    else expect(folder).not.toMatch(/cuda|vulkan/);
    // The process holds one libllama, the one node-llama-cpp's addon sits beside.
    expect(loadedLlamaLibraries()).toEqual([native.file]);
    expect(existsSync(path.join(path.dirname(native.file), "llama-addon.node"))).toBe(true);
  });
});

describe("quantizing with llama.cpp's quantizer", () => {
  const outputs = new Map<QuantType, string>();

  it.each([
    ["Q8_0", ["Q8_0"]],
    ["Q4_K_M", ["Q4_K", "Q5_K", "Q6_K"]],
    ["Q2_K", ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]],
  ] as const)("makes a %s file whose weights are of the types llama.cpp chooses for it", async (type, weightTypes) => {
    const output = path.join(folder, `synthetic-${type}.gguf`);
    const progress: QuantizeProgress[] = [];
    const result = await quantizeModel({ input: source, output, type, threads: 1, onProgress: (p) => progress.push(p) });
    outputs.set(type, output);

    expect(result.output).toBe(output);
    expect(result.bytes).toBe((await fs.stat(output)).size);
    expect(existsSync(`${output}.part`)).toBe(false);

    const header = await readGgufHeader(output);
    expect(header.metadata["general.file_type"]).toBe(QUANT_TYPES[type].ftype);
    expect(describeGguf(header, output).fileType).toBe(type);
    const matrices = header.tensors.filter(isMatrix);
    expect(matrices.length).toBeGreaterThan(0);
    for (const tensor of matrices) expect(weightTypes as readonly string[]).toContain(tensor.type);
    for (const tensor of header.tensors.filter((t) => !isMatrix(t))) expect(tensor.type).toBe("F32");
    if (type !== "Q8_0") {
      const total = matrices.reduce((sum, t) => sum + (t.byteSize ?? Number.NaN), 0);
      const kBytes = matrices.filter((t) => K_QUANTS.has(t.type ?? "")).reduce((sum, t) => sum + (t.byteSize ?? Number.NaN), 0);
      expect(kBytes / total).toBeGreaterThan(0.9);
      expect(matrices.some((t) => t.type === (type === "Q2_K" ? "Q2_K" : "Q4_K"))).toBe(true);
    }

    // Progress starts at 0, never goes back, and ends at exactly 1 with the file's size.
    expect(progress[0]).toMatchObject({ bytesWritten: 0, fraction: 0 });
    expect(progress.at(-1)).toEqual({ bytesWritten: result.bytes, bytesExpected: expect.any(Number) as unknown, fraction: 1 });
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.fraction).toBeGreaterThanOrEqual(progress[i - 1]!.fraction);
    // The prediction is within a factor of two of the outcome even for this tiny model.
    const expected = progress.at(-1)!.bytesExpected;
    expect(expected / result.bytes).toBeGreaterThan(0.5);
    expect(expected / result.bytes).toBeLessThan(2);
  });

  it("gets smaller as bits fall, and the Q4_K_M file loads and generates", async () => {
    const made = (type: QuantType): string => {
      const file = outputs.get(type);
      if (!file) throw new Error(`${type} was not made`);
      return file;
    };
    const sizes = await Promise.all([source, made("Q8_0"), made("Q4_K_M"), made("Q2_K")].map(async (file) => (await fs.stat(file)).size));
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]!);
    const bits = await Promise.all(
      (["Q8_0", "Q4_K_M", "Q2_K"] as const).map(async (type) => describeGguf(await readGgufHeader(made(type)), made(type)).bitsPerWeight),
    );
    expect(bits[0]).toBeGreaterThan(bits[1]!);
    expect(bits[1]).toBeGreaterThan(bits[2]!);

    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    try {
      const model = await llama.loadModel({ modelPath: made("Q4_K_M") });
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const tokens: number[] = [];
      for await (const token of context.getSequence().evaluate(model.tokenize("Once upon a time"), { temperature: 0 })) {
        tokens.push(token);
        if (tokens.length >= 8) break;
      }
      expect(tokens).toHaveLength(8);
      const vocab = describeGguf(await readGgufHeader(made("Q4_K_M")), made("Q4_K_M")).vocabSize ?? 0;
      for (const token of tokens) expect(token).toBeLessThan(vocab);
      await context.dispose();
      await model.dispose();
    } finally {
      await llama.dispose();
    }
  });

  it("quantizes further from Q8_0, the one quantized source it accepts", async () => {
    const output = path.join(folder, "from-q8.gguf");
    await quantizeModel({ input: outputs.get("Q8_0") ?? "", output, type: "Q4_K_M", threads: 1 });
    const header = await readGgufHeader(output);
    expect(describeGguf(header, output).fileType).toBe("Q4_K_M");
    expect(header.tensors.filter(isMatrix).every((t) => K_QUANTS.has(t.type ?? ""))).toBe(true);
  });

  it("refuses a source that is already quantized, saying why", async () => {
    const low = outputs.get("Q4_K_M") ?? "";
    const output = path.join(folder, "again.gguf");
    await expect(quantizeModel({ input: low, output, type: "Q2_K" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("already quantized (Q4_K_M)") as unknown,
    });
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.part`)).toBe(false);
  });

  it("refuses types it does not make, naming the reason", async () => {
    const output = path.join(folder, "never.gguf");
    await expect(quantizeModel({ input: source, output, type: "IQ2_XXS" as QuantType })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("importance matrix") as unknown,
    });
    await expect(quantizeModel({ input: source, output, type: "Q9_Z" as QuantType })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("Q4_K_M") as unknown,
    });
    expect(existsSync(output)).toBe(false);
  });

  it("refuses to overwrite unless asked, and replaces the file when asked", async () => {
    const existing = outputs.get("Q8_0") ?? "";
    await expect(quantizeModel({ input: source, output: existing, type: "Q8_0" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("already exists") as unknown,
    });
    const result = await quantizeModel({ input: source, output: existing, type: "Q6_K", threads: 1, overwrite: true });
    expect(describeGguf(await readGgufHeader(existing), existing).fileType).toBe("Q6_K");
    expect(result.bytes).toBe((await fs.stat(existing)).size);
    await expect(quantizeModel({ input: source, output: source, type: "Q8_0", overwrite: true })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("refuses an output folder that does not exist, leaving nothing behind", async () => {
    const nowhere = path.join(folder, "missing-folder", "out.gguf");
    await expect(quantizeModel({ input: source, output: nowhere, type: "Q8_0" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("does not exist") as unknown,
    });
    expect(existsSync(`${nowhere}.part`)).toBe(false);
    expect(existsSync(nowhere)).toBe(false);
  });

  it("deletes the half-written .part when llama.cpp fails mid-file", async () => {
    // An infinity in the last tensor llama.cpp writes (it goes layer by layer, names in
    // order): its loader accepts the file, and its data check stops the run only once the
    // other tensors are in the .part file.
    const broken = path.join(folder, "broken-F32.gguf");
    await fs.copyFile(source, broken);
    const header = await readGgufHeader(broken);
    const last = header.tensors.find((t) => t.name === "blk.1.ffn_up.weight");
    if (!last || last.type !== "F32") throw new Error("expected blk.1.ffn_up.weight in F32");
    const file = await fs.open(broken, "r+");
    const inf = Buffer.alloc(4);
    inf.writeFloatLE(Infinity);
    await file.write(inf, 0, 4, header.dataOffset + last.offset + 4 * 100);
    await file.close();

    const output = path.join(folder, "broken-Q8_0.gguf");
    await expect(quantizeModel({ input: broken, output, type: "Q8_0", threads: 1 })).rejects.toMatchObject({
      code: "internal",
      message: expect.stringContaining("could not be quantized to Q8_0") as unknown,
    });
    expect(existsSync(`${output}.part`)).toBe(false);
    expect(existsSync(output)).toBe(false);
  });
});
