import { describe, expect, it } from "vitest";
import { runsToCsv, type LabRun, type QuantVariantResult } from "../api/contract.js";
import { sortEntries } from "./lab-analysis.js";
import { machinesDiffer, runColor, runRows, uniqueLabels } from "./lab-runs.js";

function variant(fileName: string, sizeBytes: number, kld: number | null): QuantVariantResult {
  return {
    modelId: null,
    name: fileName.replace(/\.gguf$/, ""),
    fileName,
    fileType: fileName.replace(/^.*-|\.gguf$/g, ""),
    sizeBytes,
    parameterCount: 1000,
    bitsPerWeight: (sizeBytes * 8) / 1000,
    isReference: kld === null,
    loadMs: 1,
    ramBytes: sizeBytes,
    vramBytes: null,
    threads: 1,
    promptTokens: 64,
    promptTokensPerSecond: 100,
    generatedTokens: 128,
    generationTokensPerSecond: 10,
    perplexity: 10,
    perplexityRatio: 1,
    kld: kld === null ? null : { mean: kld, median: kld, p99: kld, max: kld },
    sameTopRate: kld === null ? null : 0.9,
    scoredTokens: 100,
  };
}

function run(id: string, modelName: string, cpu: string, variants: QuantVariantResult[]): LabRun {
  return {
    id,
    createdAt: "2026-03-01T10:00:00.000Z",
    finishedAt: "2026-03-01T10:01:00.000Z",
    status: "complete",
    modelName,
    architecture: "llama",
    textId: "mixed",
    textTitle: 'All texts, "mixed"',
    contextSize: 128,
    variants,
    machine: { cpu, cores: 2, memoryBytes: 1 << 30, gpu: null },
    error: null,
  };
}

const laptop = run("r1", "toy", "Laptop CPU", [variant("toy-F32.gguf", 4000, null), variant("toy-Q4_K_M.gguf", 700, 0.05)]);
const desktop = run("r2", "toy", "Desktop CPU", [variant("toy-F32.gguf", 4000, null), variant("toy-Q4_K_M.gguf", 700, 0.04)]);
const other = run("r3", "other", "Laptop CPU", [variant("other-F16.gguf", 2000, null), variant("other-Q8_0.gguf", 1100, 0.01)]);

describe("saved runs seen together", () => {
  it("give one row per variant of every run, keyed apart even when two runs measured the same files", () => {
    const rows = runRows([laptop, desktop, other]);
    expect(rows.map((row) => [row.run, row.variant.fileName])).toEqual([
      [0, "toy-F32.gguf"],
      [0, "toy-Q4_K_M.gguf"],
      [1, "toy-F32.gguf"],
      [1, "toy-Q4_K_M.gguf"],
      [2, "other-F16.gguf"],
      [2, "other-Q8_0.gguf"],
    ]);
    expect(new Set(rows.map((row) => row.key)).size).toBe(rows.length);
  });

  it("sort across runs by a figure, keeping each run's order for ties", () => {
    const rows = runRows([laptop, desktop, other]);
    const bySize = sortEntries(rows, (row) => row.variant, "sizeBytes", false);
    expect(bySize.map((row) => `${row.run}:${row.variant.fileType}`)).toEqual([
      "0:Q4_K_M",
      "1:Q4_K_M",
      "2:Q8_0",
      "2:F16",
      "0:F32",
      "1:F32",
    ]);
    const byKld = sortEntries(rows, (row) => row.variant, "kldMean", true);
    expect(byKld.slice(0, 3).map((row) => `${row.run}:${row.variant.fileType}`)).toEqual(["0:Q4_K_M", "1:Q4_K_M", "2:Q8_0"]);
  });

  it("name the machine only when the runs come from more than one", () => {
    expect(machinesDiffer([laptop, other])).toBe(false);
    expect(machinesDiffer([laptop, desktop])).toBe(true);
    expect(machinesDiffer([laptop, { ...other, machine: { ...other.machine, gpu: "RTX" } }])).toBe(true);
  });

  it("number repeated labels so no two series share a name, and cycle the chart colours", () => {
    expect(uniqueLabels(["a", "b", "a", "a"])).toEqual(["a", "b", "a (2)", "a (3)"]);
    expect([0, 1, 3, 4].map(runColor)).toEqual(["--chart-1", "--chart-2", "--chart-4", "--chart-1"]);
  });

  it("export as one CSV: the run's columns, then every figure, a row per variant, quoted where needed", () => {
    // The last column is the mixed precision recipe, empty for a plain type.
    const lines = runsToCsv([laptop, other]).trim().split("\n");
    expect(lines).toHaveLength(1 + 4);
    expect(lines[0]).toMatch(/^run,model,text,context,date,machine,variant,type,size MiB,bits\/weight,PPL,PPL ratio,mean KLD/);
    expect(lines[1]).toBe(
      'r1,toy,"All texts, ""mixed""",128,2026-03-01T10:00:00.000Z,Laptop CPU,toy-F32.gguf,F32,0.0,32.00,10.0000,1.0000,,,,,,100.0,10.0,1,0.0,,1,', // VRAM not available: an empty cell, never 0
    );
    expect(lines[4]?.startsWith("r3,other,")).toBe(true);
    expect(lines[4]).toContain(",other-Q8_0.gguf,Q8_0,0.0,8.80,");
    expect(lines[4]).toContain(",0.010000,");
  });
});
