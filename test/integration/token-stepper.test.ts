// The engine's generation loop on node-llama-cpp's native context (stepTokens) against
// node-llama-cpp's own `sequence.evaluate`, both real, on the same model and sequence:
// - the same tokens for the same options and seed: plain sampling, repeat penalties (whose
//   history is read from the sequence), a logit bias, a JSON grammar, and end-of-generation
//   tokens yielded or not;
// - the sequence left as evaluate leaves it: the same token list, and a reply continued from
//   it (or from a shorter prefix of it, after erasing the rest) is the one evaluate continues;
// - the context's end is refused with a clear error rather than decoded past.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getLlama,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  TokenBias,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { vocabularySize } from "../../electron/engine/api-generation.js";
import { stepTokens, type StepOptions } from "../../electron/engine/token-stepper.js";
import { STORIES_MODEL } from "../support/paths.js";

const CONTEXT = 256;

let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;
let sequence: LlamaContextSequence;
let prompt: Token[];

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: STORIES_MODEL });
  context = await model.createContext({ contextSize: CONTEXT, threads: 1 });
  sequence = context.getSequence();
  prompt = model.tokenize("Once upon a time, there was a little girl named Lily. She", false);
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

type Loop = "evaluate" | "stepper";

/** Up to `count` tokens after `input`, from the sequence as it stands. */
async function generate(loop: Loop, input: Token[], options: StepOptions, count: number): Promise<Token[]> {
  const tokens: Token[] = [];
  const stepper = loop === "stepper" ? stepTokens(sequence, input, options) : sequence.evaluate(input, options);
  if (stepper === null) throw new Error("stepTokens refused a plain sequence");
  for await (const token of stepper) {
    tokens.push(token);
    if (tokens.length >= count) break;
  }
  return tokens;
}

/** A fresh sequence, then `count` tokens after the prompt. */
async function fromStart(loop: Loop, options: StepOptions, count: number): Promise<Token[]> {
  await sequence.clearHistory();
  return generate(loop, prompt, options, count);
}

describe("stepTokens against sequence.evaluate", () => {
  const sampling = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed: 7 } as const;

  it("yields the same tokens for the same sampling and seed", async () => {
    const evaluated = await fromStart("evaluate", sampling, 64);
    const stepped = await fromStart("stepper", sampling, 64);
    expect(evaluated).toHaveLength(64);
    expect(stepped).toEqual(evaluated);
    // A different seed gives a different reply: the comparison above can tell replies apart.
    expect(await fromStart("stepper", { ...sampling, seed: 8 }, 64)).not.toEqual(evaluated);
  });

  it("yields the same tokens with repeat penalties read from the sequence", async () => {
    const options = (): StepOptions => ({
      ...sampling,
      repeatPenalty: {
        punishTokens: () => sequence.contextTokens.slice(-64),
        penalty: 1.3,
        frequencyPenalty: 0.4,
        presencePenalty: 0.3,
      },
    });
    const evaluated = await fromStart("evaluate", options(), 64);
    expect(await fromStart("stepper", options(), 64)).toEqual(evaluated);
    expect(evaluated).not.toEqual(await fromStart("evaluate", sampling, 64));
  });

  it("yields the same tokens with a logit bias", async () => {
    const plain = await fromStart("evaluate", sampling, 32);
    // Ban the plain reply's first two tokens.
    const banned = [...new Set(plain.slice(0, 2))];
    const options = (): StepOptions => {
      const tokenBias = new TokenBias(model.tokenizer);
      for (const token of banned) tokenBias.set(token, "never");
      return { ...sampling, tokenBias };
    };
    const evaluated = await fromStart("evaluate", options(), 32);
    expect(evaluated.some((token) => banned.includes(token))).toBe(false);
    expect(await fromStart("stepper", options(), 32)).toEqual(evaluated);
  });

  it("yields the same tokens under a JSON grammar, and ends where the grammar does", async () => {
    const grammar = await llama.createGrammarForJsonSchema({
      type: "object",
      properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer" } },
      additionalProperties: false,
    } as const);
    const options = (): StepOptions => ({ ...sampling, grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) });
    const evaluated = await fromStart("evaluate", options(), 200);
    const stepped = await fromStart("stepper", options(), 200);
    expect(stepped).toEqual(evaluated);
    const text = model.detokenize(stepped);
    expect(grammar.parse(text)).toMatchObject({ name: expect.any(String) as unknown, age: expect.any(Number) as unknown });
  });

  it("ends at an end-of-generation token, or goes on past it with yieldEogToken, as evaluate does", async () => {
    // stories260K never ends a story with its end-of-text token on its own (its stories are
    // separated by BOS), so every other token is banned: the end of text is all that is left.
    const eos = model.tokens.eos as Token;
    const options = (yieldEogToken: boolean): StepOptions => {
      const tokenBias = new TokenBias(model.tokenizer);
      for (let token = 0; token < vocabularySize(model); token += 1) {
        if (token !== eos) tokenBias.set(token as Token, "never");
      }
      return { ...sampling, tokenBias, yieldEogToken };
    };
    const evaluated = await fromStart("evaluate", options(true), 8);
    expect(evaluated).toEqual(Array.from({ length: 8 }, () => eos));
    expect(await fromStart("stepper", options(true), 8)).toEqual(evaluated);
    expect(await fromStart("evaluate", options(false), 8)).toEqual([]);
    expect(await fromStart("stepper", options(false), 8)).toEqual([]);
  });

  it("leaves the sequence as evaluate leaves it, so a continued reply is the same", async () => {
    const continued = async (loop: Loop) => {
      const first = await fromStart(loop, sampling, 20);
      const state = { tokens: sequence.contextTokens, next: sequence.nextTokenIndex };
      // The last token yielded is not decoded yet; the reply goes on from it.
      const more = await generate("evaluate", [first.at(-1) as Token], { ...sampling, seed: 11 }, 20);
      // Back to the prompt's first half, as a new turn reusing the cached prefix would.
      const keep = Math.floor(prompt.length / 2);
      await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
      const again = await generate("evaluate", prompt.slice(keep), { ...sampling, seed: 12 }, 20);
      return { first, state, more, again };
    };
    const evaluated = await continued("evaluate");
    const stepped = await continued("stepper");
    expect(stepped.state.tokens).toEqual([...prompt, ...evaluated.first.slice(0, -1)]);
    expect(stepped.state.next).toBe(prompt.length + 19);
    expect(stepped).toEqual(evaluated);
  });

  it("refuses to decode past the end of the context, with what did not fit", async () => {
    await sequence.clearHistory();
    const long = Array.from({ length: CONTEXT }, (_, index) => prompt[index % prompt.length] as Token);
    await expect(generate("stepper", long, sampling, 1)).rejects.toThrow(/context is full: 256 more tokens do not fit after 0 of 256/);
    // Nothing was decoded, and the sequence says so.
    expect(sequence.nextTokenIndex).toBe(0);
    expect(await fromStart("stepper", sampling, 8)).toEqual(await fromStart("evaluate", sampling, 8));
  });

  it("takes no empty input (evaluate yields nothing for one)", () => {
    expect(stepTokens(sequence, [], sampling)).toBeNull();
  });
});
