// Generation on node-llama-cpp's own context with one decode and one sampling call per token.
//
// node-llama-cpp's `sequence.evaluate` does more than that for every token: it resolves the
// sampler's options in JavaScript and hands them to the native sampler again, queues the
// decode through its batch dispatcher, copies the sequence's whole token list, and takes async
// locks around each step. On a small model that is as much time as the decode itself. This
// drives the same native context (node-llama-cpp's internal `_ctx`, the one its dispatcher
// decodes on) with the same native sampler (its `AddonSampler`, configured once by
// node-llama-cpp's own option resolver; the sampler keeps the repeat penalty's history and the
// grammar's state itself, token by token). The sequence's token list is kept as node-llama-cpp
// keeps it, so prefix reuse, erasing and everything else on the sequence see what was decoded.
//
// It relies on the engine running one generation at a time per context (the generation
// queue), as nothing else then decodes on it. Where node-llama-cpp's internals are not the ones
// this was written for, or the model needs context checkpoints to reuse a prefix (hybrid,
// recurrent and sliding-window models; node-llama-cpp takes them between batches),
// `stepTokens` returns null and the caller uses `sequence.evaluate`.

import type { LlamaContextSequence, SequenceEvaluateOptions, Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";

/** The parts of node-llama-cpp's native context this relies on. */
interface NativeContext {
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstTokenSequenceIndex: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(batchLogitIndex: number, sampler: NativeSampler): Promise<number>;
}
interface NativeSampler {
  applyConfig(config: unknown): void;
  dispose(): void;
}
interface SequenceInternals {
  _sequenceId?: unknown;
  _contextTokens?: unknown;
  _nextTokenIndex?: unknown;
  _loadedTokenPredictions?: unknown;
  _resolveSamplerConfig?: (options: SequenceEvaluateOptions) => unknown;
}
interface ContextInternals {
  _ctx?: Partial<NativeContext>;
  _backendContextDisposeGuard?: { createPreventDisposalHandle?: () => { dispose(): void } };
}
interface ModelInternals {
  _model?: unknown;
  _llama?: { _bindings?: { AddonSampler?: new (model: unknown) => NativeSampler } };
}

/** The sampling options `stepTokens` takes: `sequence.evaluate`'s, less the ones that change its loop. */
export type StepOptions = Pick<
  SequenceEvaluateOptions,
  "temperature" | "minP" | "topK" | "topP" | "seed" | "repeatPenalty" | "tokenBias" | "grammarEvaluationState" | "yieldEogToken"
>;

interface Parts {
  native: NativeContext;
  sequenceId: number;
  internals: SequenceInternals & { _contextTokens: Token[]; _nextTokenIndex: number };
  resolve: (options: SequenceEvaluateOptions) => unknown;
  Sampler: new (model: unknown) => NativeSampler;
  model: unknown;
  guard: () => { dispose(): void };
}

function partsOf(sequence: LlamaContextSequence): Parts | null {
  const internals = sequence as unknown as SequenceInternals;
  const context = sequence.context as unknown as ContextInternals;
  const model = sequence.model as unknown as ModelInternals;
  const native = context._ctx;
  const Sampler = model._llama?._bindings?.AddonSampler;
  const guard = context._backendContextDisposeGuard;
  if (
    typeof native?.initBatch !== "function" ||
    typeof native.addToBatch !== "function" ||
    typeof native.decodeBatch !== "function" ||
    typeof native.sampleToken !== "function" ||
    typeof internals._sequenceId !== "number" ||
    !Array.isArray(internals._contextTokens) ||
    typeof internals._nextTokenIndex !== "number" ||
    !Array.isArray(internals._loadedTokenPredictions) ||
    typeof internals._resolveSamplerConfig !== "function" ||
    typeof Sampler !== "function" ||
    model._model === undefined ||
    typeof guard?.createPreventDisposalHandle !== "function"
  ) {
    return null;
  }
  return {
    native: native as NativeContext,
    sequenceId: internals._sequenceId,
    internals: internals as Parts["internals"],
    resolve: internals._resolveSamplerConfig.bind(sequence),
    Sampler,
    model: model._model,
    guard: guard.createPreventDisposalHandle.bind(guard),
  };
}

/**
 * Decodes `input` after what the sequence holds, then yields each sampled token; the next
 * token is decoded when the caller asks for it, and an end-of-generation token ends it unless
 * `yieldEogToken`, as `sequence.evaluate(input, options)` does (the same tokens for the same
 * options and seed). Null where this cannot run on this sequence: use `sequence.evaluate` then.
 */
export function stepTokens(sequence: LlamaContextSequence, input: readonly Token[], options: StepOptions): AsyncGenerator<Token> | null {
  if (input.length === 0 || sequence.needsCheckpoints) return null;
  const parts = partsOf(sequence);
  if (parts === null || (parts.internals._loadedTokenPredictions as unknown[]).length > 0) return null;
  return steps(sequence, parts, input, options);
}

async function* steps(sequence: LlamaContextSequence, parts: Parts, input: readonly Token[], options: StepOptions): AsyncGenerator<Token> {
  const { native, sequenceId, internals } = parts;
  const model = sequence.model;
  const sampler = new parts.Sampler(parts.model);
  const lastOfOne = Uint32Array.of(0);
  const one = new Uint32Array(1);

  const ensureLoaded = (): void => {
    if (sequence.disposed) throw new QuantaError("generation_failed", "The model was unloaded during the reply.");
  };
  /** Decodes one batch after what the sequence holds; the logit indexes of `outputs` in it. */
  const decodeBatch = async (tokens: Uint32Array, outputs: Uint32Array): Promise<Uint32Array> => {
    ensureLoaded();
    if (internals._nextTokenIndex + tokens.length >= sequence.contextSize) {
      throw new QuantaError(
        "context_overflow",
        `The context is full: ${tokens.length} more tokens do not fit after ${internals._nextTokenIndex} of ${sequence.contextSize}.`,
      );
    }
    const handle = parts.guard();
    let indexes: Uint32Array;
    try {
      native.initBatch(tokens.length);
      indexes = native.addToBatch(sequenceId, internals._nextTokenIndex, tokens, outputs);
      await native.decodeBatch();
    } finally {
      handle.dispose();
    }
    internals._nextTokenIndex += tokens.length;
    for (const token of tokens) internals._contextTokens.push(token as Token);
    return indexes;
  };

  try {
    // The input in batches of the context's size, with the last token's logits only.
    const batchSize = sequence.context.batchSize;
    let logitIndex = -1;
    for (let start = 0; start < input.length; start += batchSize) {
      const batch = Uint32Array.from(input.slice(start, start + batchSize));
      const last = start + batch.length >= input.length;
      const indexes = await decodeBatch(batch, last ? Uint32Array.of(batch.length - 1) : new Uint32Array(0));
      if (last) logitIndex = indexes[0] ?? -1;
    }
    // node-llama-cpp's own resolver, after the input is in the sequence (a repeat penalty's
    // history may be read from it): the configuration `evaluate` gives every token.
    sampler.applyConfig(parts.resolve(options));
    for (;;) {
      ensureLoaded();
      const handle = parts.guard();
      let token: number;
      try {
        token = await native.sampleToken(logitIndex, sampler);
      } finally {
        handle.dispose();
      }
      if (token === -1) throw new QuantaError("generation_failed", "llama.cpp could not sample the next token.");
      if (options.yieldEogToken !== true && model.isEogToken(token as Token)) return;
      yield token as Token;
      one[0] = token;
      logitIndex = (await decodeBatch(one, lastOfOne))[0] ?? -1;
    }
  } finally {
    sampler.dispose();
  }
}
