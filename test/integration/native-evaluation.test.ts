// The lab's evaluation on llama.cpp's C API (engine/native/), on stories260K: the library is
// the one node-llama-cpp loaded; a reference pass writes llama-perplexity's layout and only
// renames it into place when complete; a variant whose vocabulary differs, or a damaged
// reference file, is refused; the result does not depend on the number of math threads.
// The token heatmap's probabilities match the node-llama-cpp computation they replace. And the
// chat's two thread counts: batches decode with the batch count, tokens with the other.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinTextsDir } from "../../electron/core/lab/eval-texts.js";
import { useBatchThreads } from "../../electron/engine/batch-threads.js";
import { compactSlots, planChunks } from "../../electron/engine/evaluation-math.js";
import { evaluateAgainstReference, evaluateReference, referenceFileBytes, referenceHeader } from "../../electron/engine/evaluation.js";
import { getBackend } from "../../electron/engine/model-session.js";
import { NativeEvaluator } from "../../electron/engine/native/llama-evaluator.js";
import { loadedLlamaLibraries } from "../../electron/engine/native/llama-library.js";
import { continuePrompt, scoredProbabilities, type Continuation } from "../../electron/engine/side-by-side.js";
import { DIST, STORIES_MODEL, tempDir } from "../support/paths.js";

const CONTEXT = 64;
const VOCAB = 512;
let folder: string;
let text: string;

beforeAll(async () => {
  folder = await tempDir("native-evaluation");
  // A few windows are enough here.
  text = (await fs.readFile(path.join(builtinTextsDir(), "english-prose.txt"), "utf8")).slice(0, 2500);
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

async function open(): Promise<NativeEvaluator> {
  return NativeEvaluator.open(STORIES_MODEL, { contextSize: CONTEXT, threads: 1, batchThreads: 2, gpuLayers: 0 });
}

describe("evaluation through llama.cpp's C API", () => {
  it("runs in the libllama node-llama-cpp loaded, with no second copy", async () => {
    const evaluator = await open();
    try {
      expect(evaluator.vocabSize).toBe(VOCAB);
      expect(loadedLlamaLibraries()).toHaveLength(1);
    } finally {
      evaluator.dispose();
    }
  });

  it("writes the reference in llama-perplexity's layout, and a variant scored against itself has KL divergence 0", async () => {
    const file = path.join(folder, "stories.logits");
    const evaluator = await open();
    try {
      const reference = await evaluateReference(evaluator, CONTEXT, VOCAB, text, file, () => undefined);
      const plan = planChunks(reference.tokens, CONTEXT);
      expect(reference.chunks).toBe(plan.chunks);
      expect((await fs.stat(file)).size).toBe(referenceFileBytes(plan, VOCAB));
      expect((await fs.readFile(file)).subarray(0, 8).toString("latin1")).toBe("_logits_");
      expect(existsSync(`${file}.part`)).toBe(false);
      // One math thread and two give the same figures to the last digit. The worker threads
      // run compiled code, so the two-thread pass is the built engine's (as the lab runs it).
      const built = (await import(
        pathToFileURL(path.join(DIST, "electron", "engine", "evaluation.js")).href
      )) as typeof import("../../electron/engine/evaluation.js");
      const one = await evaluateAgainstReference(evaluator, CONTEXT, VOCAB, text, file, () => undefined, 1);
      const two = await built.evaluateAgainstReference(evaluator, CONTEXT, VOCAB, text, file, () => undefined, 2);
      expect(two).toEqual(one);
      expect(one.perplexity).toBeCloseTo(reference.perplexity, 6);
      expect(Math.abs(one.kld?.mean ?? 1)).toBeLessThan(1e-4);
      expect(one.sameTopRate).toBe(1);
    } finally {
      evaluator.dispose();
    }
  });

  it("leaves no reference file behind when stopped mid-evaluation", async () => {
    const file = path.join(folder, "stopped.logits");
    const evaluator = await open();
    try {
      await expect(
        evaluateReference(evaluator, CONTEXT, VOCAB, text, file, () => {
          throw new Error("stopped");
        }),
      ).rejects.toThrow("stopped");
      expect(existsSync(file)).toBe(false);
      expect(existsSync(`${file}.part`)).toBe(false);
    } finally {
      evaluator.dispose();
    }
  });

  it("refuses a reference of another vocabulary, and a damaged reference file", async () => {
    const evaluator = await open();
    try {
      const tokens = evaluator.tokenize(text);
      const plan = planChunks(tokens.length, CONTEXT);
      // A reference made with a 32,000-token vocabulary: the same header llama-perplexity writes.
      const other = path.join(folder, "other-vocab.logits");
      await fs.writeFile(other, referenceHeader(CONTEXT, 32000, plan.chunks, tokens));
      await expect(evaluateAgainstReference(evaluator, CONTEXT, VOCAB, text, other, () => undefined)).rejects.toThrow(
        /vocabulary \(512 tokens\) differs from the reference's \(32000\)/,
      );
      // The GGUF header's vocabulary against llama.cpp's.
      await expect(evaluateAgainstReference(evaluator, CONTEXT, 1000, text, other, () => undefined)).rejects.toThrow(
        /header says the vocabulary has 1000/,
      );
      // Cut short: the size is checked before any window is scored.
      const good = path.join(folder, "stories.logits");
      const damaged = path.join(folder, "damaged.logits");
      const bytes = await fs.readFile(good);
      await fs.writeFile(damaged, bytes.subarray(0, bytes.length - compactSlots(VOCAB)));
      await expect(evaluateAgainstReference(evaluator, CONTEXT, VOCAB, text, damaged, () => undefined)).rejects.toThrow(/damaged/);
      await fs.writeFile(damaged, Buffer.from("not a reference at all, just some bytes"));
      await expect(evaluateAgainstReference(evaluator, CONTEXT, VOCAB, text, damaged, () => undefined)).rejects.toThrow(/damaged/);
    } finally {
      evaluator.dispose();
    }
  });
});

describe("the token heatmap on llama.cpp's C API", () => {
  it("gives each reference token the probability node-llama-cpp's teacher-forced evaluation gives it", async () => {
    const llama = await getBackend();
    const model = await llama.loadModel({ modelPath: STORIES_MODEL, gpuLayers: 0 });
    let continuation: Continuation;
    let old: number[];
    try {
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      continuation = await continuePrompt(model, sequence, "Once upon a time, a little dog", 40, () => undefined);
      // The computation this replaces: controlledEvaluate with every position's probabilities.
      await sequence.clearHistory();
      const forced = [...continuation.input, ...continuation.tokens] as Token[];
      const input = continuation.input.length;
      const results = await sequence.controlledEvaluate(
        forced.map((token, index) =>
          index >= input - 1 && index < forced.length - 1 ? ([token, { generateNext: { probabilities: true } }] as const) : token,
        ),
      );
      old = continuation.tokens.map((token, index) => results[input - 1 + index]?.next.probabilities?.get(token as Token) ?? 0);
      await context.dispose();
    } finally {
      await model.dispose();
    }
    expect(continuation.tokens.length).toBeGreaterThan(10);
    const evaluator = await NativeEvaluator.open(STORIES_MODEL, {
      contextSize: continuation.input.length + continuation.tokens.length,
      threads: 1,
      batchThreads: 2,
      gpuLayers: 0,
    });
    try {
      const native = await scoredProbabilities(evaluator, continuation.input, continuation.tokens);
      expect(native).toHaveLength(old.length);
      for (let index = 0; index < old.length; index++) expect(Math.abs((native[index] ?? 0) - (old[index] ?? 0))).toBeLessThan(1e-4);
      // Greedy tokens: each is its position's most probable, so well above chance.
      expect(Math.min(...native)).toBeGreaterThan(1 / VOCAB);
    } finally {
      evaluator.dispose();
    }
  });
});

describe("two thread counts on one context", () => {
  it("decodes a batch with the batch count and a single token with the generation count", async () => {
    const llama = await getBackend();
    const model = await llama.loadModel({ modelPath: STORIES_MODEL, gpuLayers: 0 });
    try {
      const context = await model.createContext({ contextSize: 128, threads: 1 });
      expect(useBatchThreads(context, { generation: 1, batch: 2 })).toBe(true);
      const sequence = context.getSequence();
      const prompt = model.tokenize("Once upon a time there was a girl");
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      // llama_n_threads after the last decode: the batch's count.
      expect(context.currentThreads).toBe(2);
      for await (const _token of sequence.evaluate(prompt.slice(-1), { temperature: 0 })) {
        break;
      }
      expect(context.currentThreads).toBe(1);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  });
});
