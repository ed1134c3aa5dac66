// A conversation longer than the context window is fitted by leaving out its oldest turns
// after the system prompt: the fewest that make it fit, found in a handful of passes over the
// conversation. Leaving them out one at a time tokenized the whole conversation once per turn
// left out: 25 s for a 400-turn chat on this machine, paid before every reply and every count
// the composer asked for.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getLlama,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from "node-llama-cpp";
import { QuantaError } from "../../electron/contract/errors.js";
import { buildPrompt, type GenerationTarget } from "../../electron/engine/generation.js";
import type { PromptMessage } from "../../electron/engine/protocol.js";
import { STORIES_MODEL } from "../support/paths.js";

let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;
let sequence: LlamaContextSequence;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: STORIES_MODEL });
  context = await model.createContext({ contextSize: 256, threads: 1 });
  // buildPrompt never evaluates: the sequence is there because a target has one.
  sequence = context.getSequence();
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

/** The loaded model with a window of `contextSize` tokens, its template's passes over a conversation counted. */
function targetOf(contextSize: number): { target: GenerationTarget; passes: () => number } {
  const wrapper = resolveChatWrapper(model);
  let passes = 0;
  const counting = new Proxy(wrapper, {
    get(object, key, receiver) {
      if (key !== "generateContextState") return Reflect.get(object, key, receiver) as unknown;
      return (...args: Parameters<ChatWrapper["generateContextState"]>) => {
        passes += 1;
        return object.generateContextState(...args);
      };
    },
  });
  return { target: { model, sequence, chatWrapper: counting, contextSize, threads: 1 }, passes: () => passes };
}

/** A system prompt, then `turns` turns of lengths that vary, then the question. */
function conversation(turns: number): PromptMessage[] {
  const messages: PromptMessage[] = [{ role: "system", text: "You tell short stories." }];
  for (let turn = 0; turn < turns; turn++) {
    const words = 3 + ((turn * 7) % 23);
    messages.push({ role: turn % 2 === 0 ? "user" : "assistant", text: `${turn}: ${"the cat sat on the mat ".repeat(words)}` });
  }
  messages.push({ role: "user", text: "What happened next?" });
  return messages;
}

const RESERVE = 64;

/** The prompt's size with the oldest `dropped` turns after the system prompt left out (nothing else left out). */
function promptSize(messages: readonly PromptMessage[], dropped: number): number {
  const kept = [messages[0] as PromptMessage, ...messages.slice(1 + dropped)];
  return buildPrompt(targetOf(1 << 30).target, kept, RESERVE).tokens.length;
}

describe("fitting a long conversation into the context window", () => {
  it("leaves out the fewest oldest turns that make it fit, and keeps the system prompt and the question", () => {
    const messages = conversation(60);
    for (const contextSize of [300, 700, 1500, 4000]) {
      const { target } = targetOf(contextSize);
      const prompt = buildPrompt(target, messages, RESERVE);
      expect(prompt.tokens.length + RESERVE).toBeLessThanOrEqual(contextSize);
      expect(prompt.tokens.length).toBe(promptSize(messages, prompt.droppedMessages));
      // One turn fewer left out would not have fit.
      expect(prompt.droppedMessages).toBeGreaterThan(0);
      expect(promptSize(messages, prompt.droppedMessages - 1) + RESERVE).toBeGreaterThan(contextSize);
      const text = model.detokenize(prompt.tokens);
      expect(text).toContain("You tell short stories.");
      expect(text).toContain("What happened next?");
    }
    // A window that holds it all leaves nothing out.
    expect(buildPrompt(targetOf(1 << 20).target, messages, RESERVE).droppedMessages).toBe(0);
  });

  it("passes over a 400-turn conversation a handful of times, not once per turn left out", () => {
    const { target, passes } = targetOf(1000);
    const prompt = buildPrompt(target, conversation(400), RESERVE);
    expect(prompt.droppedMessages).toBeGreaterThan(300);
    // Whole, all but the question, then halving: ⌈log2 400⌉ = 9 more.
    expect(passes()).toBeLessThanOrEqual(11);
  });

  it("says how many tokens the message needs when even the message alone does not fit", () => {
    const { target } = targetOf(300);
    const messages = [...conversation(10).slice(0, -1), { role: "user" as const, text: "the dog ran far away ".repeat(200) }];
    let caught: unknown;
    try {
      buildPrompt(target, messages, RESERVE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QuantaError);
    expect((caught as QuantaError).code).toBe("context_overflow");
    expect((caught as QuantaError).params).toMatchObject({ reason: "message_too_long", contextSize: 300 });
    expect(Number((caught as QuantaError).params?.tokens)).toBeGreaterThan(300 - RESERVE);
  });
});
