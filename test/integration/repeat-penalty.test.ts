// The engine's reply loop with a repeat penalty (the Creative preset) penalizes the last 64
// tokens of the text so far, prompt and reply, the token just sampled included. Reading
// `sequence.contextTokens` inside the sampler (as the loop once did) copied the whole context
// per token and also missed the newest token: llama.cpp samples while that token is still
// being decoded, before node-llama-cpp adds it to the sequence's tokens.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel, resolveChatWrapper, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { SAMPLING_PRESETS } from "../../electron/contract/chat-settings.js";
import { buildPrompt, generateReply, type GenerationTarget } from "../../electron/engine/generation.js";
import type { PromptMessage } from "../../electron/engine/protocol.js";
import { STORIES_MODEL } from "../support/paths.js";

let llama: Llama;
let model: LlamaModel;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: STORIES_MODEL });
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await model?.dispose();
  await llama?.dispose();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

describe("repeat penalty", () => {
  it("penalizes the last 64 tokens of prompt and reply, the newest included, token for token", async () => {
    const context = await model.createContext({ contextSize: 1024, threads: 1 });
    try {
      const target: GenerationTarget = {
        model,
        sequence: context.getSequence(),
        chatWrapper: resolveChatWrapper(model),
        contextSize: context.contextSize,
        threads: 1,
      };
      const messages: PromptMessage[] = [
        { role: "user", text: "Once upon a time there was a cat." },
        { role: "assistant", text: "The cat liked to sit in the sun and sleep all day." },
        { role: "user", text: "Tell me more about the cat and the dog." },
      ];
      // A strong penalty makes any difference in the window change the sampled tokens.
      const sampling = { ...SAMPLING_PRESETS.creative, repeatPenalty: 1.5, seed: 11, maxTokens: 300 };
      const ours = await generateReply(target, messages, sampling, { onText: () => undefined, isStopRequested: () => false });
      expect(ours.stats.generatedTokens).toBeGreaterThan(100);

      await target.sequence.clearHistory();
      const prompt = buildPrompt(target, messages);
      const reference: Token[] = [];
      const textSoFar = [...prompt.tokens];
      for await (const token of target.sequence.evaluate(prompt.tokens, {
        temperature: sampling.temperature,
        topK: sampling.topK,
        topP: sampling.topP,
        minP: sampling.minP,
        seed: sampling.seed,
        repeatPenalty: { punishTokens: () => textSoFar.slice(-64), penalty: sampling.repeatPenalty },
      })) {
        if (prompt.stops.tokens.has(token)) break;
        reference.push(token);
        textSoFar.push(token);
        if (reference.length >= ours.stats.generatedTokens) break;
      }
      expect(model.detokenize(reference)).toBe(ours.text);
    } finally {
      await context.dispose();
    }
  });
});
