// Teacher-forced evaluation of a text, as llama-perplexity does it (see evaluation-math.ts):
// the reference variant's log-probs go to a compact file on disk (never kept whole in
// memory, never sent to the core), and each other variant is scored against that file one
// window at a time: perplexity, per-token KL divergence and same-top-token rate.

import { promises as fs } from "node:fs";
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import {
  compactSlots,
  encodeReferencePosition,
  planChunks,
  scoreAgainstReference,
  summarizeKld,
  type ChunkPlan,
  type EvaluationQuality,
  type KldSummary,
} from "./evaluation-math.js";

const MAGIC = 0x46455251; // "QREF"
const VERSION = 1;
/** magic, version, vocab, context size, chunks, first, token count: int32 each. */
const HEADER_INTS = 7;

export interface EvaluationProgress {
  chunk: number;
  chunks: number;
}

/** The text's tokens as llama-perplexity takes them: with BOS first where the model adds one. */
export function evaluationTokens(model: LlamaModel, text: string): { tokens: Token[]; bos: Token | null } {
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const body = model.tokenize(text);
  return { tokens: bos === null ? body : [bos, ...body], bos };
}

/** Refuses a text that does not fill one window: nothing could be scored. */
export function checkedPlan(tokenCount: number, contextSize: number): ChunkPlan {
  const plan = planChunks(tokenCount, contextSize);
  if (plan.chunks < 1 || plan.scoredPerChunk < 1) {
    throw new QuantaError(
      "invalid_request",
      `The evaluation text is ${tokenCount} tokens long for this model, shorter than one context window of ${contextSize} tokens. Use a longer text or a smaller context.`,
    );
  }
  return plan;
}

/** The full logits at each scored position of one window (evaluated from an empty cache). */
async function windowLogits(
  sequence: LlamaContextSequence,
  window: Token[],
  first: number,
  vocabSize: number,
  onPosition: (position: number, logits: Float64Array) => void,
): Promise<void> {
  await sequence.clearHistory();
  const input = window.map((token, index) =>
    index >= first && index < window.length - 1 ? ([token, { generateNext: { logits: true } }] as const) : token,
  );
  const logits = new Float64Array(vocabSize);
  // node-llama-cpp swallows errors thrown in onTokenResult: keep the first and throw it after.
  let failure: unknown = null;
  await sequence.controlledEvaluate(input as Parameters<typeof sequence.controlledEvaluate>[0], {
    onTokenResult(index, result) {
      const values = result.next.logits;
      if (!values || failure !== null) return;
      if (values.size !== vocabSize) {
        failure = new QuantaError(
          "model_invalid",
          `The model gave ${values.size} logits per position; its header says the vocabulary has ${vocabSize} tokens.`,
        );
        return;
      }
      logits.fill(-Infinity);
      for (const [token, value] of values) logits[token] = value;
      try {
        onPosition(index, logits);
      } catch (error) {
        failure = error;
      }
    },
  });
  if (failure !== null) throw failure;
}

function windowAt(tokens: readonly Token[], plan: ChunkPlan, chunk: number, bos: Token | null): Token[] {
  const start = chunk * plan.contextSize;
  const window = tokens.slice(start, start + plan.contextSize);
  if (bos !== null) window[0] = bos;
  return window;
}

/**
 * Scores the reference variant and writes its compact log-probs to `file`: a header (the
 * plan and the text's tokens, so a variant that tokenizes differently is caught) and then,
 * for each scored position, compactSlots(vocab) uint16s.
 */
export async function evaluateReference(
  model: LlamaModel,
  /** Holds at least `contextSize` tokens (llama.cpp may round a context up). */
  context: LlamaContext,
  contextSize: number,
  /** From the GGUF header: node-llama-cpp does not expose n_vocab. */
  vocabSize: number,
  text: string,
  file: string,
  onProgress: (progress: EvaluationProgress) => void,
): Promise<EvaluationQuality> {
  const { tokens, bos } = evaluationTokens(model, text);
  const plan = checkedPlan(tokens.length, contextSize);
  const sequence = context.getSequence();
  const slots = compactSlots(vocabSize);
  const handle = await fs.open(file, "w");
  try {
    const header = Int32Array.from([MAGIC, VERSION, vocabSize, plan.contextSize, plan.chunks, plan.first, tokens.length, ...tokens]);
    await handle.write(new Uint8Array(header.buffer));
    let nll = 0;
    let scored = 0;
    const rows = new Uint16Array(slots * plan.scoredPerChunk);
    for (let chunk = 0; chunk < plan.chunks; chunk++) {
      const window = windowAt(tokens, plan, chunk, bos);
      await windowLogits(sequence, window, plan.first, vocabSize, (position, logits) => {
        const row = rows.subarray((position - plan.first) * slots, (position - plan.first + 1) * slots);
        nll += encodeReferencePosition(logits, window[position + 1] ?? 0, row);
        scored += 1;
      });
      await handle.write(new Uint8Array(rows.buffer));
      onProgress({ chunk: chunk + 1, chunks: plan.chunks });
    }
    await handle.sync();
    return { tokens: tokens.length, chunks: plan.chunks, scoredTokens: scored, perplexity: Math.exp(nll / scored), kld: null, sameTopRate: null };
  } finally {
    sequence.dispose();
    await handle.close();
  }
}

/** Scores a variant against the reference file written by evaluateReference. */
export async function evaluateAgainstReference(
  model: LlamaModel,
  /** Holds at least `contextSize` tokens (llama.cpp may round a context up). */
  context: LlamaContext,
  contextSize: number,
  /** From the GGUF header: node-llama-cpp does not expose n_vocab. */
  vocabSize: number,
  text: string,
  file: string,
  onProgress: (progress: EvaluationProgress) => void,
): Promise<EvaluationQuality> {
  const { tokens, bos } = evaluationTokens(model, text);
  const plan = checkedPlan(tokens.length, contextSize);
  const sequence = context.getSequence();
  const slots = compactSlots(vocabSize);
  const handle = await fs.open(file, "r");
  try {
    const head = new Int32Array(HEADER_INTS);
    await handle.read(new Uint8Array(head.buffer), 0, head.byteLength, 0);
    if (head[0] !== MAGIC || head[1] !== VERSION) throw new QuantaError("internal", "The reference distribution file is damaged.");
    if (head[2] !== vocabSize || head[6] !== tokens.length || head[3] !== plan.contextSize) {
      throw new QuantaError(
        "invalid_request",
        "This variant's vocabulary or tokenization differs from the reference's, so they are not variants of one model.",
      );
    }
    const referenceTokens = new Int32Array(tokens.length);
    await handle.read(new Uint8Array(referenceTokens.buffer), 0, referenceTokens.byteLength, HEADER_INTS * 4);
    if (tokens.some((token, index) => referenceTokens[index] !== token)) {
      throw new QuantaError("invalid_request", "This variant tokenizes the text differently from the reference, so they are not variants of one model.");
    }
    const dataOffset = (HEADER_INTS + tokens.length) * 4;
    const rows = new Uint16Array(slots * plan.scoredPerChunk);
    const klds = new Float64Array(plan.chunks * plan.scoredPerChunk);
    let nll = 0;
    let scored = 0;
    let sameTop = 0;
    for (let chunk = 0; chunk < plan.chunks; chunk++) {
      await handle.read(new Uint8Array(rows.buffer), 0, rows.byteLength, dataOffset + chunk * rows.byteLength);
      const window = windowAt(tokens, plan, chunk, bos);
      await windowLogits(sequence, window, plan.first, vocabSize, (position, logits) => {
        const row = rows.subarray((position - plan.first) * slots, (position - plan.first + 1) * slots);
        const score = scoreAgainstReference(logits, window[position + 1] ?? 0, row);
        nll += score.nll;
        klds[scored] = score.kld;
        if (score.sameTop) sameTop += 1;
        scored += 1;
      });
      onProgress({ chunk: chunk + 1, chunks: plan.chunks });
    }
    return {
      tokens: tokens.length,
      chunks: plan.chunks,
      scoredTokens: scored,
      perplexity: Math.exp(nll / scored),
      kld: summarizeKld(klds.subarray(0, scored)),
      sameTopRate: sameTop / scored,
    };
  } finally {
    sequence.dispose();
    await handle.close();
  }
}
