// The API's log probabilities are the model's whole distribution at each position (OpenAI's
// meaning: the most likely tokens there), not the sampler's candidates: with top_k 2 a reply
// still gets 20 alternatives, each with the probability the model gave it. Checked against an
// independent computation: every position of the same tokens decoded again in a fresh context
// through node-llama-cpp's public API, the full logit row taken, and log-softmax done here.

import { LlamaContext, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeForApi } from "../../electron/engine/api-generation.js";
import type { ApiCompletionRequest } from "../../electron/engine/api-protocol.js";
import { getBackend } from "../../electron/engine/model-session.js";
import { STORIES_MODEL } from "../support/paths.js";

const PROMPT = "Once upon a time, there was a little";
const TOKENS = 12;
const TOP = 20;

let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  const llama = await getBackend();
  model = await llama.loadModel({ modelPath: STORIES_MODEL, gpuLayers: 0 });
  context = await model.createContext({ contextSize: 256, threads: 1 });
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these */
  await context?.dispose();
  await model?.dispose();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

/** Log-softmax of every position's full logit row, computed here in double precision. */
async function independentLogprobs(tokens: readonly Token[], first: number): Promise<Float64Array[]> {
  const fresh = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const sequence = fresh.getSequence();
    const input = tokens.map((token, index): Token | [Token, { generateNext: { logits: true } }] =>
      index >= first - 1 ? [token, { generateNext: { logits: true } }] : token,
    );
    const results = await sequence.controlledEvaluate(input);
    const rows: Float64Array[] = [];
    for (let index = first - 1; index < tokens.length; index += 1) {
      const logits = results[index]?.next.logits;
      if (!logits) throw new Error(`no logits at position ${index}`);
      // The whole vocabulary, nothing cut.
      expect(logits.size).toBe(512);
      const row = new Float64Array(logits.size);
      let max = -Infinity;
      for (const value of logits.values()) max = Math.max(max, value);
      let sum = 0;
      for (const value of logits.values()) sum += Math.exp(value - max);
      const normalizer = max + Math.log(sum);
      for (const [token, value] of logits) row[token] = value - normalizer;
      rows.push(row);
    }
    return rows;
  } finally {
    await fresh.dispose();
  }
}

describe("API log probabilities", () => {
  it("are the model's full distribution, up to 20 per token, whatever the sampler keeps", async () => {
    const sequence = context.getSequence();
    const request: ApiCompletionRequest = {
      requestId: "logprobs-test",
      input: { kind: "text", prompt: PROMPT },
      // The sampler keeps two candidates; the log probabilities must not care.
      sampling: {
        temperature: 1.2,
        topK: 2,
        topP: 1,
        minP: 0,
        seed: 5,
        maxTokens: TOKENS,
        repeatPenalty: 1,
        frequencyPenalty: 0,
        presencePenalty: 0,
      },
      stop: [],
      logitBias: [],
      grammar: null,
      logprobs: { top: TOP },
    };
    const target = { model, sequence, chatWrapper: undefined as never, contextSize: context.contextSize, threads: 1 };
    const result = await completeForApi(target, request, {
      onText: () => undefined,
      onPrompt: () => undefined,
      isStopRequested: () => false,
      signal: new AbortController().signal,
    });
    const entries = result.logprobs ?? [];
    expect(entries).toHaveLength(TOKENS);

    // The tokens the engine generated: in the context after the prompt (the last one was chosen, not decoded).
    const promptLength = result.promptTokens;
    const decoded = sequence.contextTokens.slice(0, promptLength + TOKENS - 1);
    const rows = await independentLogprobs(decoded, promptLength);
    expect(rows).toHaveLength(TOKENS);

    for (const [position, entry] of entries.entries()) {
      const row = rows[position] ?? new Float64Array();
      const ranked = [...row.keys()].sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0));
      // Twenty alternatives although the sampler kept two, in the model's order, with its probabilities.
      expect(entry.top).toHaveLength(TOP);
      // A batch and single tokens are decoded with slightly different float arithmetic: equal to 0.01 nats, and
      // where two tokens are that close their order may differ.
      const previous = decoded[promptLength + position - 1] as Token;
      for (const [rank, alternative] of entry.top.entries()) {
        expect(alternative.logprob).toBeCloseTo(row[ranked[rank] ?? -1] ?? NaN, 2);
        const near = ranked.filter((token) => Math.abs((row[token] ?? NaN) - alternative.logprob) < 0.01);
        expect(near.map((token) => model.detokenize([token as Token], false, [previous]))).toContain(alternative.token);
      }
      // The chosen token's own log probability, under the model (not renormalized over two candidates).
      const chosen = position < TOKENS - 1 ? decoded[promptLength + position] : undefined;
      if (chosen !== undefined) expect(entry.logprob).toBeCloseTo(row[chosen] ?? NaN, 2);
      // The last one was chosen but never decoded: top_k 2 chose it among the model's two most likely.
      else expect(ranked.slice(0, 2).some((token) => Math.abs((row[token] ?? NaN) - entry.logprob) < 0.01)).toBe(true);
    }
  });
});
