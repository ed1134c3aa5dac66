// The quantization lab end to end in the core, with real engine processes and real GGUF
// files: a synthetic F32 llama quantized to three types through the core's jobs, compared on
// an evaluation text; KL divergence rises as bits fall; perplexity and KL divergence agree
// with an independent computation here from node-llama-cpp's full probability vectors.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreEvent, LabRun, QuantizeJob } from "../../electron/contract/types.js";
import { describeGguf, readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { modelIdFor } from "../../electron/core/library/model-library.js";
import { builtinTextsDir } from "../../electron/core/lab/eval-texts.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

const CONTEXT = 128;
let folder: string;
let source: string;
let harness: CoreHarness;
let run: LabRun;

const isJobEnd =
  (type: string) =>
  (event: CoreEvent): event is Extract<CoreEvent, { type: "lab.quantize" }> =>
    event.type === "lab.quantize" && event.job.type === type && ["done", "failed", "cancelled"].includes(event.job.state);
/** The job's end, from the events so far or the next ones. */
async function jobEnd(type: string, timeoutMs: number): Promise<QuantizeJob> {
  const seen = harness.events.find((event) => isJobEnd(type)(event));
  if (seen?.type === "lab.quantize") return seen.job;
  return (await harness.waitFor(isJobEnd(type), timeoutMs)).job;
}
const isRunEnd =
  (runId: string) =>
  (event: CoreEvent): event is Extract<CoreEvent, { type: "lab.run" }> =>
    event.type === "lab.run" && event.run.id === runId;

beforeAll(async () => {
  folder = await tempDir("lab");
  source = path.join(folder, "synthetic-F32.gguf");
  await writeSyntheticLlama(source, {
    tokenizerFrom: STORIES_MODEL,
    embeddingLength: 256,
    layers: 2,
    feedForwardLength: 512,
    heads: 4,
    type: "F32",
    seed: 7,
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

describe("making variants", () => {
  it("predicts sizes, then quantizes to Q8_0, Q4_K_M and Q2_K in jobs that report progress", async () => {
    const sourceId = modelIdFor(source);
    const plan = await harness.core.api.getQuantizePlan({ modelId: sourceId });
    expect(plan.refusal).toBeNull();
    expect(plan.sourceType).toBe("F32");
    const q4 = plan.options.find((option) => option.type === "Q4_K_M");
    expect(q4).toMatchObject({ fileName: "synthetic-Q4_K_M.gguf", exists: false });
    expect(q4?.predictedBytes).toBeLessThan((await fs.stat(source)).size);

    expect(q4?.predictedBy).toBe("llama.cpp");

    const jobs = await harness.core.api.startQuantize({ modelId: sourceId, types: ["Q8_0", "Q4_K_M", "Q2_K"] });
    expect(jobs.map((job) => job.state)).toEqual(["queued", "queued", "queued"]);
    const ends = await Promise.all(["Q8_0", "Q4_K_M", "Q2_K"].map((type) => jobEnd(type, 120_000)));
    for (const job of ends) {
      expect(job.error).toBeNull();
      expect(job.state).toBe("done");
      const file = path.join(folder, job.fileName);
      expect(existsSync(`${file}.part`)).toBe(false);
      expect(describeGguf(await readGgufHeader(file), file).fileType).toBe(job.type);
      expect(job.resultModelId).toBe(modelIdFor(file));
      // llama.cpp's dry run predicted the size to within 1 % (it reports MiB to two decimals).
      const predicted = plan.options.find((option) => option.type === job.type)?.predictedBytes ?? 0;
      expect(Math.abs(predicted - (await fs.stat(file)).size) / (await fs.stat(file)).size).toBeLessThan(0.01);
    }
    // The variants join the library.
    const names = (await harness.core.api.listModels()).map((model) => model.fileName);
    expect(names).toEqual(expect.arrayContaining(["synthetic-Q8_0.gguf", "synthetic-Q4_K_M.gguf", "synthetic-Q2_K.gguf"]));
    // Progress was reported between queued and done.
    const progress = harness.events.filter(
      (event): event is Extract<CoreEvent, { type: "lab.quantize" }> => event.type === "lab.quantize" && event.job.type === "Q4_K_M",
    );
    expect(progress.some((event) => event.job.state === "running")).toBe(true);
    // The progress bar counts against the plan's figure, the one the user was shown.
    const q4Plan = plan.options.find((option) => option.type === "Q4_K_M")!.predictedBytes;
    expect(progress.every((event) => event.job.bytesExpected === q4Plan)).toBe(true);
  });

  it("refuses an importance-matrix type, an existing file, and a source that is already low-bit", async () => {
    const sourceId = modelIdFor(source);
    await expect(harness.core.api.startQuantize({ modelId: sourceId, types: ["IQ2_XS"] })).rejects.toThrow(/importance matrix/);
    // One refused type queues none of the others.
    const before = (await harness.core.api.listQuantizeJobs()).length;
    await expect(harness.core.api.startQuantize({ modelId: sourceId, types: ["Q3_K_S", "IQ1_S"] })).rejects.toThrow(/importance matrix/);
    expect(await harness.core.api.listQuantizeJobs()).toHaveLength(before);
    await expect(harness.core.api.startQuantize({ modelId: sourceId, types: ["Q4_K_M"] })).rejects.toThrow(/already exists/);
    const plan = await harness.core.api.getQuantizePlan({ modelId: modelIdFor(path.join(folder, "synthetic-Q2_K.gguf")) });
    expect(plan.refusal).toMatch(/already quantized \(Q2_K\)/);
  });

  it("cancels a running job: its engine is ended and nothing is left that looks like a model", async () => {
    const sourceId = modelIdFor(source);
    const running = harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "lab.quantize" }> =>
        event.type === "lab.quantize" && event.job.type === "Q3_K_L" && event.job.state === "running",
      60_000,
    );
    await harness.core.api.startQuantize({ modelId: sourceId, types: ["Q3_K_L"] });
    const { job } = await running;
    await harness.core.api.cancelQuantize({ jobId: job.jobId });
    expect((await jobEnd("Q3_K_L", 60_000)).state).toBe("cancelled");
    expect(existsSync(path.join(folder, "synthetic-Q3_K_L.gguf"))).toBe(false);
    expect(existsSync(path.join(folder, "synthetic-Q3_K_L.gguf.part"))).toBe(false);
  });

  it("cancels a queued job without leaving a file", async () => {
    const sourceId = modelIdFor(source);
    const [first, second] = await harness.core.api.startQuantize({ modelId: sourceId, types: ["Q6_K", "Q5_K_M"] });
    await harness.core.api.cancelQuantize({ jobId: (second as QuantizeJob).jobId });
    expect((await jobEnd("Q5_K_M", 60_000)).state).toBe("cancelled");
    expect((await jobEnd("Q6_K", 120_000)).state).toBe("done");
    const jobs = await harness.core.api.listQuantizeJobs();
    expect(jobs.find((job) => job.jobId === first?.jobId)?.state).toBe("done");
    expect(jobs.find((job) => job.jobId === second?.jobId)?.state).toBe("cancelled");
    expect(existsSync(path.join(folder, "synthetic-Q5_K_M.gguf"))).toBe(false);
    expect(existsSync(path.join(folder, "synthetic-Q5_K_M.gguf.part"))).toBe(false);
  });
});

describe("comparing variants", () => {
  it("measures every variant, and KL divergence rises as bits fall (Q8_0 < Q4_K_M < Q2_K)", async () => {
    const ids = ["F32", "Q2_K", "Q8_0", "Q4_K_M"].map((type) => modelIdFor(path.join(folder, `synthetic-${type}.gguf`)));
    const { runId } = await harness.core.api.startComparison({ modelIds: ids, textId: "english-prose", contextSize: CONTEXT });
    run = (await harness.waitFor(isRunEnd(runId), 170_000)).run;
    expect(run.error).toBeNull();
    expect(run.status).toBe("complete");
    // Chosen in any order, reported reference first, then by falling bits per weight.
    expect(run.variants.map((variant) => variant.fileType)).toEqual(["F32", "Q8_0", "Q4_K_M", "Q2_K"]);
    const [reference, ...others] = run.variants;
    expect(reference?.isReference).toBe(true);
    expect(reference?.kld).toBeNull();
    expect(reference?.perplexityRatio).toBe(1);
    const byType = new Map(others.map((variant) => [variant.fileType, variant]));
    const kld = (type: string): number => byType.get(type)?.kld?.mean ?? Number.NaN;
    expect(kld("Q8_0")).toBeGreaterThan(0);
    expect(kld("Q8_0")).toBeLessThan(kld("Q4_K_M"));
    expect(kld("Q4_K_M")).toBeLessThan(kld("Q2_K"));
    for (const variant of run.variants) {
      expect(variant.perplexity).toBeGreaterThan(1);
      expect(variant.scoredTokens).toBeGreaterThan(100);
      expect(variant.promptTokensPerSecond).toBeGreaterThan(0);
      expect(variant.generationTokensPerSecond).toBeGreaterThan(0);
      expect(variant.threads).toBeGreaterThanOrEqual(1);
      expect(variant.bitsPerWeight).toBeGreaterThan(0);
    }
    for (const variant of others) {
      expect(variant.kld!.median).toBeLessThanOrEqual(variant.kld!.p99);
      expect(variant.kld!.p99).toBeLessThanOrEqual(variant.kld!.max);
      expect(variant.sameTopRate).toBeGreaterThan(0);
      expect(variant.sameTopRate).toBeLessThanOrEqual(1);
    }
    expect(byType.get("Q8_0")!.sameTopRate).toBeGreaterThanOrEqual(byType.get("Q2_K")!.sameTopRate!);
    // Memory is measured from llama.cpp's buffers: weights shrink with the bits, the KV cache is
    // the same for every variant, and RAM (never 0) rises with the bits; VRAM is not available
    // without a GPU rather than 0.
    const ram = run.variants.map((variant) => variant.ramBytes ?? 0);
    for (let index = 1; index < ram.length; index++) expect(ram[index]!).toBeLessThan(ram[index - 1]!);
    for (const variant of run.variants) {
      const footprint = variant.footprint!;
      expect(variant.ramBytes).toBeGreaterThan(footprint.weightsBytes);
      expect(footprint.weightsBytes).toBeGreaterThanOrEqual(variant.sizeBytes * 0.8);
      expect(footprint.kvCacheBytes).toBe(run.variants[0]!.footprint!.kvCacheBytes);
      if (run.machine.gpu === null) expect(variant.vramBytes).toBeNull();
    }
    // Saved, listed and reopened as it was.
    expect((await harness.core.api.listLabRuns()).map((summary) => summary.id)).toContain(runId);
    expect(await harness.core.api.getLabRun({ runId })).toEqual(run);
    // The reference distribution was kept in the lab's cache, not as a temporary file.
    expect(run.referenceCache).toEqual({ status: "stored", reason: null });
    expect(await fs.readdir(path.join(harness.home, "lab", "tmp"))).toEqual([]);
  });

  it("reuses the cached reference when a variant is compared again: same figures, no second reference pass", async () => {
    const ids = ["F32", "Q8_0"].map((type) => modelIdFor(path.join(folder, `synthetic-${type}.gguf`)));
    const { runId } = await harness.core.api.startComparison({ modelIds: ids, textId: "english-prose", contextSize: CONTEXT });
    const again = (await harness.waitFor(isRunEnd(runId), 170_000)).run;
    expect(again.error).toBeNull();
    expect(again.referenceCache).toEqual({ status: "reused", reason: null });
    // The reference was measured for speed only: no evaluating phase before the variant's.
    const phases = harness.events.filter(
      (event): event is Extract<CoreEvent, { type: "lab.progress" }> => event.type === "lab.progress" && event.progress.runId === runId,
    );
    expect(phases.some((event) => event.progress.variant === 0 && event.progress.phase === "evaluating")).toBe(false);
    expect(again.variants[0]?.perplexity).toBe(run.variants[0]?.perplexity);
    const before = run.variants.find((variant) => variant.fileType === "Q8_0");
    expect(again.variants[1]?.kld).toEqual(before?.kld);
    expect(again.variants[1]?.sameTopRate).toBe(before?.sameTopRate);
  });

  it("agrees with perplexity and KL divergence computed here from the full probability vectors", async () => {
    const text = await fs.readFile(path.join(builtinTextsDir(), "english-prose.txt"), "utf8");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 0 });
    /** Per scored position, the probability vector; llama-perplexity's windows. */
    const distributions = async (file: string): Promise<{ probs: Float64Array[]; targets: number[] }> => {
      const model = await llama.loadModel({ modelPath: file });
      const context = await model.createContext({ contextSize: CONTEXT, threads: 1, batchSize: CONTEXT });
      const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
      const tokens: Token[] = bos === null ? model.tokenize(text) : [bos, ...model.tokenize(text)];
      const vocab = describeGguf(await readGgufHeader(file), file).vocabSize ?? 0;
      const probs: Float64Array[] = [];
      const targets: number[] = [];
      const first = CONTEXT / 2;
      const sequence = context.getSequence();
      for (let chunk = 0; chunk < Math.floor(tokens.length / CONTEXT); chunk++) {
        const window = tokens.slice(chunk * CONTEXT, (chunk + 1) * CONTEXT);
        if (bos !== null) window[0] = bos;
        await sequence.clearHistory();
        const results = await sequence.controlledEvaluate(
          window.map((token, index) =>
            index >= first && index < CONTEXT - 1 ? [token, { generateNext: { probabilities: true } }] : token,
          ),
        );
        for (let index = first; index < CONTEXT - 1; index++) {
          const map = results[index]?.next.probabilities;
          if (!map) throw new Error(`no probabilities at ${index}`);
          const vector = new Float64Array(vocab);
          for (const [token, p] of map) vector[token] = p;
          probs.push(vector);
          targets.push(window[index + 1] as number);
        }
      }
      await sequence.dispose();
      await context.dispose();
      await model.dispose();
      return { probs, targets };
    };
    try {
      const reference = await distributions(path.join(folder, "synthetic-F32.gguf"));
      const variant = await distributions(path.join(folder, "synthetic-Q4_K_M.gguf"));
      const perplexity = (d: { probs: Float64Array[]; targets: number[] }): number =>
        Math.exp(d.probs.reduce((sum, p, i) => sum - Math.log(p[d.targets[i]!]!), 0) / d.probs.length);
      const klds = reference.probs.map((p, i) => {
        const q = variant.probs[i]!;
        let sum = 0;
        for (let t = 0; t < p.length; t++) if (p[t]! > 0) sum += p[t]! * Math.log(p[t]! / q[t]!);
        return sum;
      });
      const sameTop = reference.probs.filter((p, i) => argmax(p) === argmax(variant.probs[i]!)).length / klds.length;
      const meanKld = klds.reduce((a, b) => a + b, 0) / klds.length;

      const measuredReference = run.variants[0]!;
      const measured = run.variants.find((v) => v.fileType === "Q4_K_M")!;
      expect(measured.scoredTokens).toBe(klds.length);
      expect(measuredReference.perplexity / perplexity(reference)).toBeCloseTo(1, 5);
      expect(measured.perplexity / perplexity(variant)).toBeCloseTo(1, 5);
      // The reference is kept compactly (uint16 log-probs, as llama.cpp does): close, not exact.
      expect(Math.abs(measured.kld!.mean - meanKld)).toBeLessThan(0.01 * meanKld + 1e-4);
      expect(Math.abs(measured.sameTopRate! - sameTop)).toBeLessThanOrEqual(2 / klds.length);
      expect(Math.max(...klds)).toBeCloseTo(measured.kld!.max, 2);
    } finally {
      await llama.dispose();
    }
  });

  it("finds a model no different from itself: KL divergence 0, same top token everywhere", async () => {
    const copy = path.join(folder, "synthetic-copy-F32.gguf");
    await fs.copyFile(source, copy);
    await harness.core.api.rescanModels();
    const { runId } = await harness.core.api.startComparison({
      modelIds: [modelIdFor(source), modelIdFor(copy)],
      textId: "dialogue",
      contextSize: CONTEXT,
    });
    const same = (await harness.waitFor(isRunEnd(runId), 120_000)).run;
    expect(same.error).toBeNull();
    const variant = same.variants[1]!;
    expect(Math.abs(variant.kld!.mean)).toBeLessThan(1e-4);
    expect(variant.kld!.max).toBeLessThan(1e-3);
    expect(variant.sameTopRate).toBe(1);
    expect(variant.perplexityRatio).toBeCloseTo(1, 6);
  });

  it("refuses files of different models, and a text shorter than one context window", async () => {
    await fs.copyFile(STORIES_MODEL, path.join(folder, "stories260K.gguf"));
    await harness.core.api.rescanModels();
    await expect(
      harness.core.api.startComparison({
        modelIds: [modelIdFor(source), modelIdFor(path.join(folder, "stories260K.gguf"))],
        textId: "english-prose",
        contextSize: CONTEXT,
      }),
    ).rejects.toThrow(/not variants of one model: their tensor shapes differ/);

    // A text shorter than one window is refused before the run starts (lab-flows.test.ts has the details).
    const short = await harness.core.api.addEvalText({ title: "Short", text: "Once upon a time." });
    await expect(
      harness.core.api.startComparison({
        modelIds: [modelIdFor(source), modelIdFor(path.join(folder, "synthetic-Q8_0.gguf"))],
        textId: short.id,
        contextSize: CONTEXT,
      }),
    ).rejects.toThrow(/a context of 128 needs at least 128/);
  });

  it("cancels a running comparison; having measured nothing, it is not saved", async () => {
    const { runId } = await harness.core.api.startComparison({
      modelIds: [modelIdFor(source), modelIdFor(path.join(folder, "synthetic-Q2_K.gguf"))],
      textId: "mixed",
      contextSize: CONTEXT,
    });
    await harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "lab.progress" }> =>
        event.type === "lab.progress" && event.progress.runId === runId && event.progress.phase === "evaluating",
      120_000,
    );
    await harness.core.api.cancelComparison({ runId });
    const cancelled = (await harness.waitFor(isRunEnd(runId), 60_000)).run;
    expect(cancelled.status).toBe("cancelled");
    // Cancelled while the reference was evaluated: no variant measured, so nothing is saved.
    expect(cancelled.variants).toEqual([]);
    await expect(harness.core.api.getLabRun({ runId })).rejects.toThrow();
    expect(await fs.readdir(path.join(harness.home, "lab", "tmp"))).toEqual([]);
  });
});

describe("the chat while the lab works", () => {
  it("answers a message while a comparison runs, since the lab has an engine of its own", async () => {
    const stories = path.join(folder, "stories260K.gguf");
    if (!existsSync(stories)) await fs.copyFile(STORIES_MODEL, stories);
    await harness.core.api.rescanModels();
    await harness.core.api.loadModel({ modelId: modelIdFor(stories) });
    const { runId } = await harness.core.api.startComparison({
      modelIds: [
        modelIdFor(source),
        modelIdFor(path.join(folder, "synthetic-Q2_K.gguf")),
        modelIdFor(path.join(folder, "synthetic-Q8_0.gguf")),
      ],
      textId: "mixed",
      contextSize: CONTEXT,
    });
    const runEnded = harness.waitFor(isRunEnd(runId), 170_000);
    let runEndedFirst = false;
    void runEnded.then(() => (runEndedFirst = true));
    const chatId = (await harness.core.api.createChat()).id;
    const done = harness.waitFor(isDone(chatId), 60_000);
    // The reply's first words arrive while the comparison still runs: the chat is not queued
    // behind the lab. (How long the whole reply takes against the whole comparison depends on
    // the reply's length, not on whether the two are independent.)
    const firstWords = harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "generation.delta" }> => event.type === "generation.delta" && event.chatId === chatId,
      60_000,
    );
    await harness.core.api.sendMessage({ chatId, text: "Once upon a time" });
    await firstWords;
    expect(runEndedFirst).toBe(false);
    const reply = (await done).message;
    expect(reply.status).toBe("complete");
    expect(reply.text.length).toBeGreaterThan(0);
    expect((await runEnded).run.status).toBe("complete");
  });
});

describe("one prompt side by side", () => {
  it("streams each variant's continuation, marks where it leaves the reference, and scores the reference's tokens", async () => {
    const copy = path.join(folder, "synthetic-copy-F32.gguf");
    const { id } = await harness.core.api.startSideBySide({
      modelIds: [modelIdFor(path.join(folder, "synthetic-Q2_K.gguf")), modelIdFor(source), modelIdFor(copy)],
      prompt: "Once upon a time",
      maxTokens: 24,
    });
    const result = (
      await harness.waitFor(
        (event): event is Extract<CoreEvent, { type: "lab.sideBySide" }> =>
          event.type === "lab.sideBySide" && event.result.id === id && event.result.status !== "running",
        120_000,
      )
    ).result;
    expect(result.error).toBeNull();
    expect(result.status).toBe("complete");
    const [reference, q2, same] = result.columns;
    // The most precise variant leads, whatever the order chosen.
    expect(reference?.fileType).toBe("F32");
    expect(reference?.isReference).toBe(true);
    expect(q2?.fileType).toBe("Q2_K");
    const tokens = reference?.pieces.length ?? 0;
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(24);
    // Streamed text is the continuation's text.
    const streamed = harness.events
      .filter(
        (event): event is Extract<CoreEvent, { type: "lab.stream" }> =>
          event.type === "lab.stream" && event.id === id && event.column === 0,
      )
      .map((event) => event.text)
      .join("");
    expect(streamed).toBe(reference?.pieces.join(""));
    // A byte-identical copy never leaves the path and gives the same probabilities.
    expect(same?.divergesAt).toBeNull();
    for (const [index, p] of (reference?.referenceProbabilities ?? []).entries()) {
      // Greedy decoding takes the most likely token, which has at least a uniform share (vocabulary 512).
      expect(p).toBeGreaterThanOrEqual(1 / 512);
      expect(p).toBeLessThanOrEqual(1);
      expect(same?.referenceProbabilities[index]).toBeCloseTo(p, 5);
    }
    expect(q2?.referenceProbabilities).toHaveLength(tokens);
    if (q2?.divergesAt !== null && q2?.divergesAt !== undefined) {
      expect(q2.pieces.slice(0, q2.divergesAt)).toEqual(reference?.pieces.slice(0, q2.divergesAt));
      expect(q2.pieces[q2.divergesAt]).not.toBe(reference?.pieces[q2.divergesAt]);
    }
  });
});

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
