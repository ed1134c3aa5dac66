// One prompt through one variant, for the Lab's side-by-side view: a greedy continuation,
// streamed piece by piece, and (teacher-forced) the probability this variant gives each
// token of the reference's continuation, for the token heatmap. Greedy decoding makes the
// first token where a variant leaves the reference's path a property of the weights alone.

import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";

export interface ContinuationResult {
  tokens: number[];
  /** Each token's text, decoded with the tokens before it (so multi-byte characters come whole). */
  pieces: string[];
  /** Teacher-forced: this variant's probability of each reference token (of its own, when no reference is given). */
  referenceProbabilities: number[];
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

export async function continuePrompt(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  prompt: string,
  maxTokens: number,
  referenceTokens: readonly number[] | null,
  onPiece: (piece: string) => void,
): Promise<ContinuationResult> {
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

  const scored: readonly number[] = referenceTokens ?? tokens;
  let referenceProbabilities: number[] = [];
  if (scored.length > 0) {
    await sequence.clearHistory();
    const forced = [...input, ...(scored as Token[])];
    const probabilities: number[] = [];
    // The distribution after position i predicts token i + 1: from the prompt's last token on.
    await sequence.controlledEvaluate(
      forced.map((token, index) =>
        index >= input.length - 1 && index < forced.length - 1 ? ([token, { generateNext: { probabilities: true } }] as const) : token,
      ),
      {
        onTokenResult(index, result) {
          const next = forced[index + 1];
          probabilities[index - (input.length - 1)] = next === undefined ? 0 : (result.next.probabilities?.get(next) ?? 0);
        },
      },
    );
    referenceProbabilities = Array.from({ length: scored.length }, (_, index) => probabilities[index] ?? 0);
  }
  return { tokens: tokens.map(Number), pieces: piecesOf(model, tokens), referenceProbabilities };
}
