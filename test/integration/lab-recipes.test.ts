// Mixed precision recipes end to end in the core: a synthetic F32 llama (dimensions a multiple
// of 256) quantized to Q4_K_M and to the recipe Q4_K_M+Q8_0 through the Lab's jobs; the
// recipe's file keeps its output and token-embedding tensors at Q8_0, says so in its name and
// metadata, matches its predicted size, and is compared beside its base in one run.

import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreEvent, QuantizeJob } from "../../electron/contract/types.js";
import { recipeGains, runToCsv, runToMarkdown } from "../../electron/contract/lab-report.js";
import { describeGguf, readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { QUANT_TYPES } from "../../electron/common-node/gguf/quant-types.js";
import { quantizationFromFileName, stripQuantSuffix } from "../../electron/core/library/quant-names.js";
import { modelIdFor } from "../../electron/core/library/model-library.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { CLI_ENTRY, STORIES_MODEL, tempDir } from "../support/paths.js";

let folder: string;
let source: string;
let harness: CoreHarness;

const isJobEnd =
  (type: string) =>
  (event: CoreEvent): event is Extract<CoreEvent, { type: "lab.quantize" }> =>
    event.type === "lab.quantize" && event.job.type === type && ["done", "failed", "cancelled"].includes(event.job.state);
async function jobEnd(type: string, timeoutMs: number): Promise<QuantizeJob> {
  const seen = harness.events.find((event) => isJobEnd(type)(event));
  if (seen?.type === "lab.quantize") return seen.job;
  return (await harness.waitFor(isJobEnd(type), timeoutMs)).job;
}

beforeAll(async () => {
  folder = await tempDir("lab-recipes");
  source = path.join(folder, "synthetic-F32.gguf");
  await writeSyntheticLlama(source, {
    tokenizerFrom: STORIES_MODEL,
    embeddingLength: 256,
    layers: 2,
    feedForwardLength: 512,
    heads: 4,
    type: "F32",
    seed: 11,
    name: "synthetic",
  });
  harness = await startCore([folder]);
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(folder, { recursive: true, force: true });
});

describe("mixed precision recipes", () => {
  it("plans recipes over every base type where they buy precision, with llama.cpp's predicted size", async () => {
    const plan = await harness.core.api.getQuantizePlan({ modelId: modelIdFor(source) });
    const recipe = plan.options.find((option) => option.type === "Q4_K_M+Q8_0");
    expect(recipe).toMatchObject({
      fileName: "synthetic-Q4_K_M+Q8_0.gguf",
      recipe: { base: "Q4_K_M", keep: "Q8_0" },
      predictedBy: "llama.cpp",
    });
    const base = plan.options.find((option) => option.type === "Q4_K_M");
    expect(base?.recipe).toBeNull();
    // Keeping two 256 × 512 tensors at Q8_0 instead of Q6_K/Q4_K costs more bytes.
    expect(recipe!.predictedBytes).toBeGreaterThan(base!.predictedBytes);
    expect(plan.options.some((option) => option.type === "Q8_0+F16")).toBe(true);
    expect(plan.options.some((option) => option.type === "Q8_0+Q8_0")).toBe(false);
    await expect(harness.core.api.startQuantize({ modelId: modelIdFor(source), types: ["Q8_0+Q8_0"] })).rejects.toThrow(/buys nothing/);
  });

  it("writes the recipe's output and token embeddings at Q8_0, names it, and matches the prediction within 1 %", async () => {
    const sourceId = modelIdFor(source);
    const plan = await harness.core.api.getQuantizePlan({ modelId: sourceId });
    await harness.core.api.startQuantize({ modelId: sourceId, types: ["Q4_K_M", "Q4_K_M+Q8_0"] });
    const [plain, recipe] = await Promise.all([jobEnd("Q4_K_M", 120_000), jobEnd("Q4_K_M+Q8_0", 120_000)]);
    expect(plain.error).toBeNull();
    expect(recipe.error).toBeNull();
    expect(recipe.fileName).toBe("synthetic-Q4_K_M+Q8_0.gguf");

    const recipeFile = path.join(folder, recipe.fileName);
    const plainFile = path.join(folder, plain.fileName);
    const recipeHeader = await readGgufHeader(recipeFile);
    const plainHeader = await readGgufHeader(plainFile);
    const typeOf = (header: typeof recipeHeader, name: string) => header.tensors.find((tensor) => tensor.name === name)?.type;
    expect(typeOf(recipeHeader, "output.weight")).toBe("Q8_0");
    expect(typeOf(recipeHeader, "token_embd.weight")).toBe("Q8_0");
    expect(typeOf(plainHeader, "output.weight")).not.toBe("Q8_0");
    expect(typeOf(plainHeader, "token_embd.weight")).not.toBe("Q8_0");
    // The layers are the base type's own choice, tensor for tensor.
    for (const tensor of plainHeader.tensors.filter((t) => t.name.startsWith("blk.")))
      expect(typeOf(recipeHeader, tensor.name)).toBe(tensor.type);
    // general.file_type stays the base (as llama-quantize writes it); the recipe is in quanta.recipe.
    expect(recipeHeader.metadata["general.file_type"]).toBe(QUANT_TYPES.Q4_K_M.ftype);
    expect(describeGguf(recipeHeader, recipeFile).fileType).toBe("Q4_K_M");
    expect(recipeHeader.metadata["quanta.recipe"]).toBe("Q4_K_M+Q8_0");
    expect(plainHeader.metadata["quanta.recipe"]).toBeUndefined();
    // The name parses as the recipe, and groups with its family.
    expect(quantizationFromFileName(recipe.fileName)).toBe("Q4_K_M+Q8_0");
    expect(stripQuantSuffix(recipe.fileName)).toBe("synthetic");

    for (const job of [plain, recipe]) {
      const predicted = plan.options.find((option) => option.type === job.type)?.predictedBytes ?? 0;
      const actual = (await fs.stat(path.join(folder, job.fileName))).size;
      expect(Math.abs(predicted - actual) / actual).toBeLessThan(0.01);
    }
    expect((await harness.core.api.listModels()).map((model) => model.fileName)).toContain("synthetic-Q4_K_M+Q8_0.gguf");
  });

  it("compares the recipe beside its base: same model, the bytes it adds and the divergence it saves", async () => {
    const ids = ["F32", "Q4_K_M", "Q4_K_M+Q8_0"].map((type) => modelIdFor(path.join(folder, `synthetic-${type}.gguf`)));
    const { runId } = await harness.core.api.startComparison({ modelIds: ids, textId: "english-prose", contextSize: 128 });
    const { run } = await harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "lab.run" }> => event.type === "lab.run" && event.run.id === runId,
      170_000,
    );
    expect(run.error).toBeNull();
    expect(run.status).toBe("complete");
    expect(run.variants.map((variant) => variant.fileName)).toEqual([
      "synthetic-F32.gguf",
      "synthetic-Q4_K_M+Q8_0.gguf",
      "synthetic-Q4_K_M.gguf",
    ]);
    expect(run.variants.map((variant) => variant.recipe)).toEqual([null, "Q4_K_M+Q8_0", null]);
    const [gain, ...more] = recipeGains(run.variants);
    expect(more).toEqual([]);
    expect(gain?.base.fileName).toBe("synthetic-Q4_K_M.gguf");
    expect(gain!.addedBytes).toBe(run.variants[1]!.sizeBytes - run.variants[2]!.sizeBytes);
    expect(gain!.addedBytes).toBeGreaterThan(0);
    // Output and embeddings at Q8_0 instead of Q6_K/Q4_K: the recipe is closer to the reference.
    expect(gain!.kldChange).toBeLessThan(0);
    expect(runToMarkdown(run)).toContain("## Mixed precision recipes");
    const csv = runToCsv(run).trim().split("\n");
    expect(csv[0]).toMatch(/,recipe,recipe adds MiB,recipe KLD change,recipe same top change pp$/);
    expect(csv[2]).toMatch(/,Q4_K_M\+Q8_0,\d+\.\d\d,-\d/);
    // Saved with the recipe, and reopened as it was.
    expect(await harness.core.api.getLabRun({ runId })).toEqual(run);
  });

  it("is made from the CLI with --keep, or refused with the syntax spelled out", async () => {
    const home = await tempDir("lab-recipes-home");
    const quanta = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
          env: { ...process.env, QUANTA_HOME: home },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("close", (code) => resolve({ code, stdout, stderr }));
      });
    const made = await quanta(["quantize", source, "--type", "Q3_K_M", "--keep", "F16"]);
    expect(made.stderr).not.toMatch(/error/i);
    expect(made.code).toBe(0);
    const file = path.join(folder, "synthetic-Q3_K_M+F16.gguf");
    expect(made.stdout).toContain(file);
    const header = await readGgufHeader(file);
    expect(header.tensors.find((tensor) => tensor.name === "output.weight")?.type).toBe("F16");
    expect(header.tensors.find((tensor) => tensor.name === "token_embd.weight")?.type).toBe("F16");
    expect(header.metadata["quanta.recipe"]).toBe("Q3_K_M+F16");

    const refused = await quanta(["quantize", source, "--type", "Q4_K_M+Q6_K"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Q4_K_M\+Q8_0/);
    await fs.rm(home, { recursive: true, force: true });
  });
});
