// `quanta quantize` and `quanta compare` as a person runs them: the built CLI in a child
// process, a synthetic model, reports on stdout, the progress bar and errors on stderr.

import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabRun } from "../../electron/contract/types.js";
import { describeGguf, readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { CLI_ENTRY, STORIES_MODEL, tempDir } from "../support/paths.js";

let folder: string;
let home: string;
let source: string;

function quanta(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
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
}

beforeAll(async () => {
  folder = await tempDir("lab-cli");
  home = await tempDir("lab-cli-home");
  source = path.join(folder, "tiny-F16.gguf");
  await writeSyntheticLlama(source, { tokenizerFrom: STORIES_MODEL, embeddingLength: 256, layers: 1, type: "F16", seed: 11 });
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
  await fs.rm(home, { recursive: true, force: true });
});

describe("quanta quantize", () => {
  it("writes the variant next to its source, with a progress bar on stderr", async () => {
    const result = await quanta(["quantize", source, "--type", "Q4_K_M"]);
    expect(result.stderr).toMatch(/\[#+-*\]\s+\d+% Q4_K_M/);
    expect(result.code).toBe(0);
    const output = path.join(folder, "tiny-Q4_K_M.gguf");
    expect(result.stdout).toContain(output);
    expect(describeGguf(await readGgufHeader(output), output).fileType).toBe("Q4_K_M");
  });

  it("writes where --out says, and refuses types that need an importance matrix", async () => {
    const out = path.join(folder, "custom.gguf");
    expect((await quanta(["quantize", source, "--type", "Q8_0", "--out", out])).code).toBe(0);
    expect(describeGguf(await readGgufHeader(out), out).fileType).toBe("Q8_0");

    const refused = await quanta(["quantize", source, "--type", "IQ2_XS", "--out", path.join(folder, "iq.gguf")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/IQ2_XS needs an importance matrix/);
    expect(existsSync(path.join(folder, "iq.gguf"))).toBe(false);
    expect(existsSync(path.join(folder, "iq.gguf.part"))).toBe(false);

    const usage = await quanta(["quantize", source]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--type/);
  });
});

describe("quanta compare", () => {
  it("prints a Markdown table with every variant's figures", async () => {
    const result = await quanta([
      "compare",
      source,
      path.join(folder, "tiny-Q4_K_M.gguf"),
      path.join(folder, "custom.gguf"),
      "--ctx",
      "128",
      "--md",
    ]);
    expect(result.stderr).toMatch(/\d\/3 .*: evaluating/);
    expect(result.code).toBe(0);
    const rows = result.stdout.split("\n").filter((line) => line.startsWith("| tiny") || line.startsWith("| custom"));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| tiny-F16\.gguf \| F16 \|/);
    expect(result.stdout).toMatch(/\| variant \| type \| size MiB \| bits\/weight \| PPL \| PPL ratio \| mean KLD \|/);
    // The report names the llama.cpp build that measured the speeds.
    expect(result.stdout).toMatch(
      /; engine (prebuilt by node-llama-cpp(, CPU kernels for [a-z0-9_]+)?|built on this machine) \(llama\.cpp v\d+\.\d+\.\d+\)\./,
    );
  });

  it("prints the run as JSON with --json, on a text file of the user's", async () => {
    const text = path.join(folder, "text.txt");
    await fs.copyFile(path.join(path.dirname(CLI_ENTRY), "..", "resources", "eval", "dialogue.txt"), text);
    const result = await quanta(["compare", source, path.join(folder, "custom.gguf"), "--ctx", "128", "--text", text, "--json"]);
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as LabRun;
    expect(run.textTitle).toBe("text.txt");
    expect(run.variants[1]?.kld?.mean).toBeGreaterThan(0);
    expect(run.variants[1]?.sameTopRate).toBeGreaterThan(0.5);
    expect(run.machine.engineBuild?.kind).toMatch(/^(prebuilt|local)$/);
    expect(run.machine.engineBuild?.llamaCpp).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it("says clearly when the files are not variants of one model", async () => {
    const result = await quanta(["compare", source, STORIES_MODEL, "--ctx", "128"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not variants of one model/);
  });

  it("refuses a text too short for the context before anything runs, saying both token counts", async () => {
    const text = path.join(folder, "short.txt");
    await fs.writeFile(text, "Once upon a time.");
    const result = await quanta(["compare", source, path.join(folder, "custom.gguf"), "--ctx", "128", "--text", text]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The evaluation text is \d+ tokens long for this model; a context of 128 needs at least 128/);
    // Refused before a variant was loaded: no progress bar.
    expect(result.stderr).not.toMatch(/loading|evaluating/);
    expect(result.stdout).toBe("");
  });

  it("skips the speed tests with --quality-only: speeds are not measured, never 0", async () => {
    const result = await quanta(["compare", source, path.join(folder, "custom.gguf"), "--ctx", "128", "--quality-only", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/: speed/);
    const run = JSON.parse(result.stdout) as LabRun;
    expect(run.qualityOnly).toBe(true);
    expect(run.variants.map((variant) => [variant.promptTokensPerSecond, variant.generationTokensPerSecond])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(run.variants[1]?.kld?.mean).toBeGreaterThan(0);
    const table = await quanta(["compare", source, path.join(folder, "custom.gguf"), "--ctx", "128", "--quality-only"]);
    expect(table.stdout).toMatch(/speed not measured \(quality only\)/);
    expect(table.stdout.split("\n").filter((line) => line.startsWith("tiny-F16.gguf") || line.startsWith("custom.gguf"))).toEqual([
      expect.stringMatching(/not measured +not measured/),
      expect.stringMatching(/not measured +not measured/),
    ]);
  });
});
