// One prompt through one variant, for the Lab's side-by-side view: a greedy continuation,
// streamed piece by piece (node-llama-cpp), and (teacher-forced) the probability this variant
// gives each token of the reference's continuation, for the token heatmap: one decode on
// llama.cpp's C API (native/llama-evaluator.ts), each position's probability read from its
// logits in place, where node-llama-cpp would hand JavaScript the whole distribution of every
// position one number at a time. Greedy decoding makes the first token where a variant leaves
// the reference's path a property of the weights alone.

import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import { tokenProbability } from "./evaluation-math.js";
import { LogSoftmaxKernel } from "./kernel/log-softmax-kernel.js";
import type { NativeEvaluator } from "./native/llama-evaluator.js";

export interface ContinuationResult {
  tokens: number[];
  /** Each token's text, decoded with the tokens before it (so multi-byte characters come whole). */
  pieces: string[];
  /** Teacher-forced: this variant's probability of each reference token (of its own, when no reference is given). */
  referenceProbabilities: number[];
}

/** A greedy continuation and the prompt's tokens, before the heatmap's scoring. */
export interface Continuation {
  /** The prompt as the model took it (BOS first where it adds one). */
  input: number[];
  tokens: number[];
  pieces: string[];
}

function promptTokens(model: LlamaModel, prompt: string): Token[] {
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const body = model.tokenize(prompt);
  const tokens = bos === null ? body : [bos, ...body];
  if (tokens.length === 0) throw new QuantaError("invalid_request", "The prompt is empty.");
  return tokens;
}

/** Decodes token by token, holding back text while a multi-byte character is incomplete. */
function piecesOf(model: LlamaModel, tokens: readonly Token[]): string[] {
  const pieces: string[] = [];
  let decoded = "";
  for (let index = 0; index < tokens.length; index++) {
    const text = model.detokenize(tokens.slice(0, index + 1));
    const stable = text.endsWith("\uFFFD") ? decoded : text;
    pieces.push(stable.slice(decoded.length));
    decoded = stable;
  }
  return pieces;
}

/** The greedy continuation of `prompt`, streamed through `onPiece`. */
export async function continuePrompt(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  prompt: string,
  maxTokens: number,
  onPiece: (piece: string) => void,
): Promise<Continuation> {
  const input = promptTokens(model, prompt);
  if (input.length + maxTokens > sequence.contextSize) {
    throw new QuantaError(
      "invalid_request",
      `The prompt and ${maxTokens} tokens do not fit in a context of ${sequence.contextSize} tokens.`,
    );
  }
  await sequence.clearHistory();
  const tokens: Token[] = [];
  let shown = "";
  for await (const token of sequence.evaluate(input, { temperature: 0, yieldEogToken: false })) {
    tokens.push(token);
    const text = model.detokenize(tokens);
    if (!text.endsWith("\uFFFD") && text.length > shown.length) {
      onPiece(text.slice(shown.length));
      shown = text;
    }
    if (tokens.length >= maxTokens) break;
  }
  return { input: input.map(Number), tokens: tokens.map(Number), pieces: piecesOf(model, tokens) };
}

/**
 * Teacher-forced: the probability (softmax of the raw logits) this model gives each token of
 * `scored` after `input` and the scored tokens before it, from one decode of both together.
 */
export async function scoredProbabilities(
  evaluator: NativeEvaluator,
  input: readonly number[],
  scored: readonly number[],
): Promise<number[]> {
  if (scored.length === 0) return [];
  if (input.length === 0) throw new QuantaError("invalid_request", "The prompt is empty.");
  const first = input.length - 1;
  // The logits after position first + i predict scored[i].
  await evaluator.decode({ tokens: Int32Array.from([...input, ...scored]), first });
  const vocab = evaluator.vocabSize;
  const rows = evaluator.logitsRows(first, scored.length);
  const kernel = LogSoftmaxKernel.create();
  return scored.map((token, index) => {
    const logits = rows.subarray(index * vocab, (index + 1) * vocab);
    return kernel ? kernel.probability(logits, token) : tokenProbability(logits, token);
  });
}
