// The Lab's flows around a comparison, in a real core with real lab engines: an evaluation
// text too short for the context is refused before the run starts (counted by the reference's
// own tokenizer, the count equal to the evaluation's); a run that measured nothing is never
// saved, one that stopped after some variants is saved with them and says where it stopped;
// added texts can be deleted, built-in ones cannot; a "quality only" run has no speeds (null,
// never 0) and its quality figures equal a full run's.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreEvent, LabRun } from "../../electron/contract/types.js";
import { modelIdFor } from "../../electron/core/library/model-library.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

const CONTEXT = 64;
let folder: string;
let harness: CoreHarness;
let f32: string;
let f16: string;
/** Same weights, but trained on a context of 32: it passes the variant check and fails when measured at 64. */
let shortContext: string;

const isRunEnd =
  (runId: string) =>
  (event: CoreEvent): event is Extract<CoreEvent, { type: "lab.run" }> =>
    event.type === "lab.run" && event.run.id === runId;

async function runToEnd(request: Parameters<CoreHarness["core"]["api"]["startComparison"]>[0]): Promise<LabRun> {
  const { runId } = await harness.core.api.startComparison(request);
  return (await harness.waitFor(isRunEnd(runId), 120_000)).run;
}

beforeAll(async () => {
  folder = await tempDir("lab-flows");
  const shape = { tokenizerFrom: STORIES_MODEL, embeddingLength: 256, layers: 1, feedForwardLength: 256, heads: 4, seed: 3, name: "flows" };
  f32 = path.join(folder, "flows-F32.gguf");
  f16 = path.join(folder, "flows-F16.gguf");
  shortContext = path.join(folder, "flows-short-F16.gguf");
  await writeSyntheticLlama(f32, { ...shape, type: "F32" });
  await writeSyntheticLlama(f16, { ...shape, type: "F16" });
  await writeSyntheticLlama(shortContext, { ...shape, type: "F16", contextLength: 32 });
  harness = await startCore([folder]);
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(folder, { recursive: true, force: true });
});

describe("an evaluation text too short for the context", () => {
  it("is counted by the reference's tokenizer, as the evaluation counts it", async () => {
    const text = (
      await harness.core.api.addEvalText({ title: "Counted", text: "Once upon a time, there was a little girl named Lily. ".repeat(12) })
    ).id;
    const counted = await harness.core.api.countEvalTextTokens({ modelIds: [modelIdFor(f16), modelIdFor(f32)], textId: text });
    // The reference is the variant with most bits per weight.
    expect(counted.modelId).toBe(modelIdFor(f32));
    // Not a character guess: the words are whole tokens of the stories vocabulary.
    expect(counted.tokens).toBeLessThan(600 / 3);
    // The evaluation's own count (llama_tokenize with add_special, as llama-perplexity) is in the
    // reference cache's record after a run on that text.
    const run = await runToEnd({ modelIds: [modelIdFor(f32), modelIdFor(f16)], textId: text, contextSize: CONTEXT, qualityOnly: true });
    expect(run.error).toBeNull();
    const cache = path.join(harness.home, "lab", "reference-cache");
    const records = await Promise.all(
      (await fs.readdir(cache))
        .filter((name) => name.endsWith(".json"))
        .map(async (name) => JSON.parse(await fs.readFile(path.join(cache, name), "utf8")) as { tokens: number }),
    );
    expect(records.map((record) => record.tokens)).toContain(counted.tokens);
  });

  it("is refused before the run starts, saying how many tokens are needed and how many it has", async () => {
    const short = await harness.core.api.addEvalText({ title: "Short", text: "Once upon a time." });
    const { tokens } = await harness.core.api.countEvalTextTokens({ modelIds: [modelIdFor(f32)], textId: short.id });
    const runsBefore = (await harness.core.api.listLabRuns()).length;
    const eventsBefore = harness.events.length;
    const refusal = await harness.core.api
      .startComparison({ modelIds: [modelIdFor(f32), modelIdFor(f16)], textId: short.id, contextSize: CONTEXT })
      .then(
        () => null,
        (error: unknown) => error as { code: string; message: string; params?: Record<string, unknown> },
      );
    expect(refusal?.code).toBe("invalid_request");
    expect(refusal?.params).toMatchObject({ reason: "text_too_short", neededTokens: CONTEXT, textTokens: tokens });
    expect(refusal?.message).toMatch(new RegExp(`${tokens} tokens long .* needs at least ${CONTEXT}`));
    // Nothing ran: no progress, no run event, nothing saved.
    expect(harness.events.slice(eventsBefore).filter((event) => event.type.startsWith("lab."))).toEqual([]);
    expect(await harness.core.api.listLabRuns()).toHaveLength(runsBefore);
  });
});

describe("runs that stop", () => {
  it("never saves a run cancelled before any variant was measured", async () => {
    const runsBefore = (await harness.core.api.listLabRuns()).length;
    const { runId } = await harness.core.api.startComparison({
      modelIds: [modelIdFor(f32), modelIdFor(f16)],
      textId: "mixed",
      contextSize: 128,
    });
    await harness.core.api.cancelComparison({ runId });
    const run = (await harness.waitFor(isRunEnd(runId), 60_000)).run;
    expect(run.status).toBe("cancelled");
    expect(run.variants).toEqual([]);
    expect(await harness.core.api.listLabRuns()).toHaveLength(runsBefore);
    await expect(harness.core.api.getLabRun({ runId })).rejects.toThrow();
  });

  it("saves a run that failed after the reference with what it measured, and says which file failed", async () => {
    const run = await runToEnd({
      modelIds: [modelIdFor(f32), modelIdFor(shortContext)],
      textId: "english-prose",
      contextSize: CONTEXT,
      qualityOnly: true,
    });
    expect(run.status).toBe("failed");
    expect(run.variants.map((variant) => variant.fileName)).toEqual(["flows-F32.gguf"]);
    expect(run.failedFile).toBe("flows-short-F16.gguf");
    expect(run.error?.message).toMatch(/flows-short-F16\.gguf: .*trained on 32 tokens/);
    expect(await harness.core.api.getLabRun({ runId: run.id })).toEqual(run);
  });
});

describe("a quality only run", () => {
  it("skips the speed tests: speeds are null, never 0, and quality equals a full run's", async () => {
    const ids = [modelIdFor(f32), modelIdFor(f16)];
    const quality = await runToEnd({ modelIds: ids, textId: "dialogue", contextSize: CONTEXT, qualityOnly: true });
    expect(quality.error).toBeNull();
    expect(quality.qualityOnly).toBe(true);
    const phases = harness.events.filter(
      (event): event is Extract<CoreEvent, { type: "lab.progress" }> =>
        event.type === "lab.progress" && event.progress.runId === quality.id,
    );
    expect(phases.some((event) => event.progress.phase === "speed")).toBe(false);
    for (const variant of quality.variants) {
      expect(variant.promptTokensPerSecond).toBeNull();
      expect(variant.generationTokensPerSecond).toBeNull();
      expect(variant.promptTokens).toBeNull();
      expect(variant.generatedTokens).toBeNull();
    }
    // Saved and read back with its nulls.
    expect(await harness.core.api.getLabRun({ runId: quality.id })).toEqual(quality);

    const full = await runToEnd({ modelIds: ids, textId: "dialogue", contextSize: CONTEXT });
    expect(full.error).toBeNull();
    expect(full.qualityOnly).toBeUndefined();
    for (const variant of full.variants) expect(variant.generationTokensPerSecond).toBeGreaterThan(0);
    expect(full.variants.map((variant) => variant.perplexity)).toEqual(quality.variants.map((variant) => variant.perplexity));
    expect(full.variants[1]?.kld).toEqual(quality.variants[1]?.kld);
  });
});

describe("evaluation texts", () => {
  it("deletes a text the user added and refuses to delete a built-in one", async () => {
    const added = await harness.core.api.addEvalText({ title: "To delete", text: "Some words to keep for a while." });
    const file = path.join(harness.home, "lab", "texts", `${added.id}.json`);
    expect(existsSync(file)).toBe(true);
    await harness.core.api.deleteEvalText({ textId: added.id });
    expect(existsSync(file)).toBe(false);
    expect((await harness.core.api.listEvalTexts()).map((text) => text.id)).not.toContain(added.id);
    await expect(harness.core.api.deleteEvalText({ textId: added.id })).rejects.toMatchObject({ code: "not_found" });

    await expect(harness.core.api.deleteEvalText({ textId: "english-prose" })).rejects.toMatchObject({
      code: "invalid_request",
      params: { reason: "builtin_text" },
    });
    expect((await harness.core.api.listEvalTexts()).map((text) => text.id)).toContain("english-prose");
  });
});
