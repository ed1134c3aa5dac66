// Log probabilities from the model's whole next-token distribution, as OpenAI's `logprobs`
// and llama-server report them: the most likely tokens at a position over the full
// vocabulary, before any sampler. node-llama-cpp's own probabilities are the sampler's
// candidates after top_k, top_p, min_p and temperature, renormalized among themselves, so
// they can list fewer tokens than asked and overstate each one's probability.
//
// A second native sampler (greedy: it keeps every token and changes no logit) reads the
// logits of the position just decoded, while they are still in the context; it never
// touches the sampler that chose the token, so the reply is the same with or without logprobs.

import type { LlamaContextSequence, Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";

/** The parts of node-llama-cpp's internals this reads through (checked before use). */
interface NativeContext {
  sampleToken(
    batchLogitIndex: number,
    sampler: unknown,
    probabilities: boolean,
    confidence: boolean,
    logits: [tokens: number[], includeMax: boolean, includeMin: boolean, includeSelected: boolean, includeTop: number],
    totalLogitWeight: boolean,
  ): Promise<[token: number, probabilities?: number[], confidence?: number, logits?: number[], totalLogitWeight?: number]>;
}
interface NativeSampler {
  applyConfig(config: unknown): void;
  dispose(): void;
}
interface SequenceInternals {
  _resolveSamplerConfig?: (options: { temperature: number }) => unknown;
}
interface ModelInternals {
  _model?: unknown;
  _llama?: { _bindings?: { AddonSampler?: new (model: unknown) => NativeSampler } };
}

export interface PositionLogprobs {
  /** The chosen token's log probability. */
  chosen: number;
  /** The most likely tokens, most likely first. */
  top: Array<{ token: Token; logprob: number }>;
}

export class FullDistribution {
  private constructor(
    private readonly context: NativeContext,
    private readonly sampler: NativeSampler,
  ) {}

  /** A reader for this sequence's positions; refuses (rather than report something else) where node-llama-cpp's internals differ. */
  static for(sequence: LlamaContextSequence): FullDistribution {
    const context = (sequence.context as unknown as { _ctx?: Partial<NativeContext> })._ctx;
    const resolve = (sequence as unknown as SequenceInternals)._resolveSamplerConfig;
    const model = sequence.model as unknown as ModelInternals;
    const Sampler = model._llama?._bindings?.AddonSampler;
    if (
      typeof context?.sampleToken !== "function" ||
      typeof resolve !== "function" ||
      Sampler === undefined ||
      model._model === undefined
    ) {
      throw new QuantaError("generation_failed", "logprobs: this version of the engine does not expose the model's full distribution.");
    }
    const sampler = new Sampler(model._model);
    // Temperature 0 makes node-llama-cpp's chain a lone greedy sampler: every token stays, no logit changes.
    sampler.applyConfig(resolve.call(sequence, { temperature: 0 }));
    return new FullDistribution(context as NativeContext, sampler);
  }

  /** Log probabilities at the position just decoded (the last output of the last batch): the chosen token's and the `top` most likely. */
  async read(chosen: Token, top: number): Promise<PositionLogprobs> {
    // At least one top token: the highest logit is the reference the total weight is measured from.
    const [, , , logits, totalWeight] = await this.context.sampleToken(
      -1,
      this.sampler,
      false,
      false,
      [[chosen], false, false, false, Math.max(1, top)],
      true,
    );
    if (logits === undefined || totalWeight === undefined || !(totalWeight > 0)) {
      throw new QuantaError("generation_failed", "logprobs: the engine gave no distribution for this position.");
    }
    // Pairs of (token, logit): first the top ones in order, then the chosen one.
    const pairs: Array<{ token: Token; logit: number }> = [];
    for (let index = 0; index + 1 < logits.length; index += 2) pairs.push({ token: logits[index] as Token, logit: logits[index + 1] ?? 0 });
    const max = pairs[0]?.logit ?? 0;
    const logNormalizer = max + Math.log(totalWeight);
    const chosenLogit = pairs.find((pair) => pair.token === chosen)?.logit;
    const seen = new Set<Token>();
    const best: PositionLogprobs["top"] = [];
    for (const pair of pairs.slice(0, Math.max(1, top))) {
      if (best.length >= top || seen.has(pair.token)) continue;
      seen.add(pair.token);
      best.push({ token: pair.token, logprob: pair.logit - logNormalizer });
    }
    return { chosen: chosenLogit === undefined ? -Infinity : chosenLogit - logNormalizer, top: best };
  }

  dispose(): void {
    this.sampler.dispose();
  }
}
