// A conversation longer than the context window is fitted by leaving out its oldest turns
// after the system prompt (replyRoom):
// - nothing is left out while the conversation leaves a quarter of the window for the reply;
//   fitted to a 64-token reserve, every reply near the end of the window stopped at "context
//   full" within about 64 tokens;
// - a cut leaves out the fewest turns that make room for half the window, and the replies after
//   it keep that cut while it leaves the quarter: their prompts start as the last one did, and
//   the engine's cache of it is used again (a new cut every reply meant evaluating the whole
//   window anew every reply);
// - the fewest are found in a handful of passes over the conversation. Leaving them out one
//   at a time tokenized the whole conversation once per turn left out: 25 s for a 400-turn chat
//   on this machine, before every reply and every count the composer asked for.

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
import { buildPrompt, replyRoom, type GenerationTarget } from "../../electron/engine/generation.js";
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

/** The prompt's size with the oldest `dropped` turns after the system prompt left out (nothing else left out). */
function promptSize(messages: readonly PromptMessage[], dropped: number): number {
  const kept = [messages[0] as PromptMessage, ...messages.slice(1 + dropped)];
  return buildPrompt(targetOf(1 << 30).target, kept).tokens.length;
}

describe("fitting a long conversation into the context window", () => {
  it("leaves out the fewest oldest turns that make room for half the window, and keeps the system prompt and the question", () => {
    const messages = conversation(60);
    for (const contextSize of [300, 700, 1500, 4000]) {
      const { target } = targetOf(contextSize);
      const room = replyRoom(contextSize);
      expect(room).toEqual({
        reserve: Math.min(64, Math.floor(contextSize / 4)),
        keep: Math.floor(contextSize / 4),
        cut: Math.floor(contextSize / 2),
      });
      const prompt = buildPrompt(target, messages);
      expect(prompt.tokens.length + room.cut).toBeLessThanOrEqual(contextSize);
      expect(prompt.tokens.length).toBe(promptSize(messages, prompt.droppedMessages));
      // One turn fewer left out would not have made the room.
      expect(prompt.droppedMessages).toBeGreaterThan(0);
      expect(promptSize(messages, prompt.droppedMessages - 1) + room.cut).toBeGreaterThan(contextSize);
      const text = model.detokenize(prompt.tokens);
      expect(text).toContain("You tell short stories.");
      expect(text).toContain("What happened next?");
    }
    // A window the conversation leaves a quarter of: nothing left out.
    const whole = promptSize(messages, 0);
    expect(buildPrompt(targetOf(Math.ceil((whole * 4) / 3) + 4).target, messages).droppedMessages).toBe(0);
  });

  it("keeps the last reply's cut while it leaves a quarter of the window, so each prompt starts as the last one did", () => {
    const contextSize = 1000;
    const { target } = targetOf(contextSize);
    const room = replyRoom(contextSize);
    let messages = conversation(60);
    let previous = buildPrompt(target, messages);
    expect(previous.droppedMessages).toBeGreaterThan(0);
    const cuts = [previous.droppedMessages];
    // Reply after reply (each an answer of about 40 tokens and a short question), each told the cut before.
    for (let reply = 0; reply < 16; reply++) {
      messages = [
        ...messages,
        { role: "assistant", text: `Answer ${reply}: ${"the cat sat down. ".repeat(6)}` },
        { role: "user", text: `Question ${reply}?` },
      ];
      const prompt = buildPrompt(target, messages, previous.droppedMessages);
      expect(prompt.droppedMessages).toBeGreaterThanOrEqual(previous.droppedMessages);
      if (prompt.droppedMessages === previous.droppedMessages) {
        // The same cut: the new prompt begins with the last one (its reply's opening aside).
        expect(prompt.tokens.length + room.keep).toBeLessThanOrEqual(contextSize);
        const common = previous.tokens.findIndex((token, index) => prompt.tokens[index] !== token);
        expect(common === -1 ? previous.tokens.length : common).toBeGreaterThan(previous.tokens.length - 8);
      } else {
        expect(prompt.tokens.length + room.cut).toBeLessThanOrEqual(contextSize);
      }
      cuts.push(prompt.droppedMessages);
      previous = prompt;
    }
    // Several replies share each cut: a few cuts for 17 prompts.
    expect(new Set(cuts).size).toBeGreaterThan(1);
    expect(new Set(cuts).size).toBeLessThanOrEqual(6);
  });

  it("passes over a 400-turn conversation a handful of times, not once per turn left out", () => {
    const { target, passes } = targetOf(1000);
    const prompt = buildPrompt(target, conversation(400));
    expect(prompt.droppedMessages).toBeGreaterThan(300);
    // Whole, all but the question, then halving: ⌈log2 400⌉ = 9 more.
    expect(passes()).toBeLessThanOrEqual(11);
    // With the last reply's cut given: the whole conversation, then that cut.
    const again = targetOf(1000);
    expect(buildPrompt(again.target, [...conversation(400), { role: "user", text: "And?" }], prompt.droppedMessages).droppedMessages).toBe(
      prompt.droppedMessages,
    );
    expect(again.passes()).toBe(2);
  });

  it("says how many tokens the message needs when even the message alone does not leave the reserve", () => {
    const { target } = targetOf(300);
    const messages = [...conversation(10).slice(0, -1), { role: "user" as const, text: "the dog ran far away ".repeat(200) }];
    let caught: unknown;
    try {
      buildPrompt(target, messages);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QuantaError);
    expect((caught as QuantaError).code).toBe("context_overflow");
    expect((caught as QuantaError).params).toMatchObject({ reason: "message_too_long", contextSize: 300 });
    expect(Number((caught as QuantaError).params?.tokens)).toBeGreaterThan(300 - replyRoom(300).reserve);
  });
});
