// Mixed precision recipes without the quantizer: the one parser, which recipes are offered,
// the names files carry, and what a recipe buys over its base in a run's report.

import { describe, expect, it } from "vitest";
import { parseQuantRecipe, recipesOver } from "../../electron/common/quant-table.js";
import { recipeGains, runToCsv, runToMarkdown } from "../../electron/contract/lab-report.js";
import type { LabRun, QuantVariantResult } from "../../electron/contract/types.js";
import { quantizationFromFileName, stripQuantSuffix } from "../../electron/core/library/quant-names.js";

function variant(
  fileName: string,
  fileType: string,
  sizeBytes: number,
  kld: number | null,
  sameTop: number | null,
  recipe: string | null,
): QuantVariantResult {
  return {
    modelId: null,
    name: fileName.replace(/\.gguf$/, ""),
    fileName,
    fileType,
    sizeBytes,
    parameterCount: 1000,
    bitsPerWeight: (sizeBytes * 8) / 1000,
    isReference: kld === null,
    loadMs: 1,
    ramBytes: sizeBytes,
    vramBytes: 0,
    threads: 1,
    promptTokens: 64,
    promptTokensPerSecond: 100,
    generatedTokens: 128,
    generationTokensPerSecond: 10,
    perplexity: 10,
    perplexityRatio: 1,
    kld: kld === null ? null : { mean: kld, median: kld, p99: kld, max: kld },
    sameTopRate: sameTop,
    scoredTokens: 100,
    recipe,
  };
}

describe("recipe names", () => {
  it("parses <base>+<kept type> in any case, and nothing else", () => {
    expect(parseQuantRecipe("q4_k_m+q8_0")).toEqual({ name: "Q4_K_M+Q8_0", base: "Q4_K_M", keep: "Q8_0" });
    expect(parseQuantRecipe("Q2_K+F16")).toEqual({ name: "Q2_K+F16", base: "Q2_K", keep: "F16" });
    expect(parseQuantRecipe("Q4_K_M")).toBeNull();
    expect(parseQuantRecipe("Q4_K_M+Q6_K")).toBeNull();
    expect(parseQuantRecipe("IQ2_XS+Q8_0")).toBeNull();
    expect(parseQuantRecipe("Q4_K_M+Q8_0+F16")).toBeNull();
  });

  it("offers a recipe only where the kept type has more bits than the base", () => {
    const names = recipesOver(["Q8_0", "Q6_K", "Q4_K_M"]).map((recipe) => recipe.name);
    expect(names).toEqual(["Q8_0+F16", "Q6_K+Q8_0", "Q6_K+F16", "Q4_K_M+Q8_0", "Q4_K_M+F16"]);
  });

  it("reads the recipe from a file name, and groups the file with its family", () => {
    expect(quantizationFromFileName("Llama-3-8B-Q4_K_M+Q8_0.gguf")).toBe("Q4_K_M+Q8_0");
    expect(quantizationFromFileName("Llama-3-8B-Q4_K_M.gguf")).toBe("Q4_K_M");
    expect(stripQuantSuffix("Llama-3-8B-Q4_K_M+Q8_0.gguf")).toBe("Llama-3-8B");
    expect(quantizationFromFileName("model-Q3_K_M+F16-00001-of-00002.gguf")).toBe("Q3_K_M+F16");
  });
});

describe("what a recipe buys", () => {
  const variants = [
    variant("m-F16.gguf", "F16", 2000, null, null, null),
    variant("m-Q4_K_M+Q8_0.gguf", "Q4_K_M", 700, 0.01, 0.95, "Q4_K_M+Q8_0"),
    variant("m-Q4_K_M.gguf", "Q4_K_M", 600, 0.03, 0.9, null),
    // No plain Q2_K in this run: nothing to pair with.
    variant("m-Q2_K+Q8_0.gguf", "Q2_K", 450, 0.2, 0.7, "Q2_K+Q8_0"),
  ];
  const run: LabRun = {
    id: "r1",
    createdAt: "2026-03-01T10:00:00.000Z",
    finishedAt: "2026-03-01T10:01:00.000Z",
    status: "complete",
    modelName: "m",
    architecture: "llama",
    textId: "mixed",
    textTitle: "Mixed",
    contextSize: 64,
    variants,
    machine: { cpu: "cpu", cores: 2, memoryBytes: 8e9, gpu: null },
    error: null,
  };

  it("pairs each recipe with the plain variant of its base type in the same run", () => {
    const gains = recipeGains(variants);
    expect(gains).toHaveLength(1);
    expect(gains[0]?.base.fileName).toBe("m-Q4_K_M.gguf");
    expect(gains[0]?.addedBytes).toBe(100);
    expect(gains[0]?.kldChange).toBeCloseTo(-0.02, 12);
    expect(gains[0]?.sameTopChange).toBeCloseTo(0.05, 12);
  });

  it("writes the bytes and the quality change in the Markdown and CSV reports", () => {
    const markdown = runToMarkdown(run);
    expect(markdown).toContain("## Mixed precision recipes");
    expect(markdown).toMatch(/\| m-Q4_K_M\+Q8_0\.gguf \| m-Q4_K_M\.gguf \| 0\.00 \| -0\.020000 \| 5\.00 \|/);
    const csv = runToCsv(run).trim().split("\n");
    expect(csv[0]).toMatch(/,recipe,recipe adds MiB,recipe KLD change,recipe same top change pp$/);
    expect(csv[2]).toMatch(/,Q4_K_M\+Q8_0,0\.00,-0\.020000,5\.00$/);
    // A plain variant, and a recipe without its base in the run, have empty recipe cells.
    expect(csv[3]).toMatch(/,,,,$/);
    expect(csv[4]).toMatch(/,Q2_K\+Q8_0,,,$/);
  });
});
