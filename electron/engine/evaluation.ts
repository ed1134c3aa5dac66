// Teacher-forced evaluation of a text, as llama-perplexity does it (see evaluation-math.ts),
// on llama.cpp's C API through FFI (native/llama-evaluator.ts): each window decoded in one
// call, each scored position's logits read as a float array. The reference variant's
// log-probs go to a file on disk in llama-perplexity's --kl-divergence-base layout (never
// kept whole in memory, never sent to the core), and each other variant is scored against
// that file one window at a time: perplexity, per-token KL divergence and same-top-token rate.

import { promises as fs } from "node:fs";
import { QuantaError } from "../contract/errors.js";
import { compactSlots, planChunks, summarizeKld, type ChunkPlan, type EvaluationQuality } from "./evaluation-math.js";
import { MathPool, type MathResult } from "./evaluation-pool.js";
import type { NativeEvaluator } from "./native/llama-evaluator.js";

/** Logits copied to shared memory per block of positions: bounded whatever the vocabulary. */
const BLOCK_BYTES = 16 * 1024 * 1024;

/** llama-perplexity's file: "_logits_", n_ctx (uint32), n_vocab, n_chunk (int32), then n_ctx × n_chunk tokens (int32), then the rows. */
const MAGIC = "_logits_";
const HEADER_BYTES = 8 + 3 * 4;

export interface EvaluationProgress {
  chunk: number;
  chunks: number;
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

/** The header of a reference file as llama-perplexity writes it. */
export function referenceHeader(contextSize: number, vocabSize: number, chunks: number, tokens: Int32Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + chunks * contextSize * 4);
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from(MAGIC, "latin1"), 0);
  view.setUint32(8, contextSize, true);
  view.setInt32(12, vocabSize, true);
  view.setInt32(16, chunks, true);
  new Int32Array(bytes.buffer, HEADER_BYTES, chunks * contextSize).set(tokens.subarray(0, chunks * contextSize));
  return bytes;
}

/** The size a complete reference file has: its header and every chunk's rows. */
export function referenceFileBytes(plan: ChunkPlan, vocabSize: number): number {
  return HEADER_BYTES + plan.chunks * plan.contextSize * 4 + plan.chunks * plan.scoredPerChunk * compactSlots(vocabSize) * 2;
}

/** The window of chunk `chunk`, its first token replaced by BOS where the model adds one (llama-perplexity's windows). */
function windowAt(tokens: Int32Array, plan: ChunkPlan, chunk: number, bos: number | null): Int32Array {
  const start = chunk * plan.contextSize;
  const window = tokens.slice(start, start + plan.contextSize);
  if (bos !== null) window[0] = bos;
  return window;
}

/** The shared block of logits a pass copies each window's rows into, a bounded number of positions at a time. */
function logitsBlock(plan: ChunkPlan, vocab: number): Float32Array {
  const positions = Math.max(1, Math.min(plan.scoredPerChunk, Math.floor(BLOCK_BYTES / (vocab * 4))));
  return new Float32Array(new SharedArrayBuffer(positions * vocab * 4));
}

/**
 * Runs `kind` over the scored positions of the window just decoded, a block at a time, on
 * `pool`'s threads: each block's logits are read in place from llama.cpp's buffer and copied
 * once into `logits` (shared memory); rows live in `rows` (the window's compact reference rows).
 */
async function scoreWindow(
  evaluator: NativeEvaluator,
  pool: MathPool,
  kind: "encode" | "score",
  window: Int32Array,
  plan: ChunkPlan,
  logits: Float32Array,
  rows: Uint16Array,
  onBlock: (result: MathResult) => void,
): Promise<void> {
  const vocab = evaluator.vocabSize;
  const slots = compactSlots(vocab);
  const block = logits.length / vocab;
  const scored = evaluator.logitsRows(plan.first, plan.scoredPerChunk);
  for (let start = 0; start < plan.scoredPerChunk; start += block) {
    const count = Math.min(block, plan.scoredPerChunk - start);
    logits.set(scored.subarray(start * vocab, (start + count) * vocab));
    const targets = window.slice(plan.first + start + 1, plan.first + start + 1 + count);
    onBlock(
      await pool.run(
        { kind, logits: logits.buffer as SharedArrayBuffer, rows: rows.buffer as SharedArrayBuffer, vocab, slots, rowBase: start, targets },
        count,
      ),
    );
  }
}

/** The evaluator's vocabulary, checked against the GGUF header's. */
function checkedVocab(evaluator: NativeEvaluator, vocabSize: number): number {
  if (evaluator.vocabSize !== vocabSize) {
    throw new QuantaError(
      "model_invalid",
      `The model gives ${evaluator.vocabSize} logits per position; its header says the vocabulary has ${vocabSize} tokens.`,
    );
  }
  return vocabSize;
}

/**
 * Scores the reference variant and writes its compact log-probs to `file` in llama-perplexity's
 * --kl-divergence-base layout: the header (the plan and the text's tokens, so a variant that
 * tokenizes differently is caught) and then, for each scored position, compactSlots(vocab)
 * uint16s. The file is written as `file`.part and renamed only when complete.
 */
export async function evaluateReference(
  evaluator: NativeEvaluator,
  contextSize: number,
  /** From the GGUF header, checked against llama.cpp's. */
  vocabSize: number,
  text: string,
  file: string,
  onProgress: (progress: EvaluationProgress) => void,
  /** Threads for the log-softmax work, the calling one included (llama-perplexity uses every core). */
  mathThreads = 1,
): Promise<EvaluationQuality> {
  checkedVocab(evaluator, vocabSize);
  const tokens = evaluator.tokenize(text);
  const bos = evaluator.bos;
  const plan = checkedPlan(tokens.length, contextSize);
  const slots = compactSlots(vocabSize);
  const part = `${file}.part`;
  const handle = await fs.open(part, "w");
  const pool = new MathPool(mathThreads);
  // Two windows' rows: one is written to disk (one large write) while the next is decoded and encoded.
  const writing: Array<Promise<unknown>> = [Promise.resolve(), Promise.resolve()];
  let complete = false;
  try {
    await handle.write(referenceHeader(plan.contextSize, vocabSize, plan.chunks, tokens));
    let nll = 0;
    let scored = 0;
    const logits = logitsBlock(plan, vocabSize);
    const rows = [0, 1].map(() => new Uint16Array(new SharedArrayBuffer(slots * plan.scoredPerChunk * 2)));
    for (let chunk = 0; chunk < plan.chunks; chunk++) {
      const window = windowAt(tokens, plan, chunk, bos);
      await evaluator.decode({ tokens: window, first: plan.first });
      const buffer = chunk % 2;
      const windowRows = rows[buffer] as Uint16Array;
      await writing[buffer];
      await scoreWindow(evaluator, pool, "encode", window, plan, logits, windowRows, (result) => {
        for (const value of result.nll) nll += value;
        scored += result.nll.length;
      });
      // Writes land in order: each starts after the one before it.
      const previous = writing[1 - buffer] ?? Promise.resolve();
      const written = previous.then(() => handle.write(new Uint8Array(windowRows.buffer)));
      // Awaited before the buffer is reused and at the end; until then a failure is held, not unhandled.
      written.catch(() => undefined);
      writing[buffer] = written;
      onProgress({ chunk: chunk + 1, chunks: plan.chunks });
    }
    await Promise.all(writing);
    // No fsync: a file damaged by a crash after the rename fails the cache's SHA-256 check and is computed again.
    await handle.close();
    await fs.rename(part, file);
    complete = true;
    return {
      tokens: tokens.length,
      chunks: plan.chunks,
      scoredTokens: scored,
      perplexity: Math.exp(nll / scored),
      kld: null,
      sameTopRate: null,
    };
  } finally {
    await pool.dispose();
    if (!complete) {
      await Promise.allSettled(writing);
      await handle.close().catch(() => undefined);
      await fs.rm(part, { force: true });
    }
  }
}

/** Scores a variant against the reference file written by evaluateReference (or by llama-perplexity). */
export async function evaluateAgainstReference(
  evaluator: NativeEvaluator,
  contextSize: number,
  /** From the GGUF header, checked against llama.cpp's. */
  vocabSize: number,
  text: string,
  file: string,
  onProgress: (progress: EvaluationProgress) => void,
  /** Threads for the log-softmax work, the calling one included (llama-perplexity uses every core). */
  mathThreads = 1,
): Promise<EvaluationQuality> {
  checkedVocab(evaluator, vocabSize);
  const tokens = evaluator.tokenize(text);
  const bos = evaluator.bos;
  const plan = checkedPlan(tokens.length, contextSize);
  const slots = compactSlots(vocabSize);
  const handle = await fs.open(file, "r");
  const pool = new MathPool(mathThreads);
  try {
    const head = new Uint8Array(HEADER_BYTES);
    await handle.read(head, 0, HEADER_BYTES, 0);
    const view = new DataView(head.buffer);
    if (Buffer.from(head.subarray(0, 8)).toString("latin1") !== MAGIC) {
      throw new QuantaError("internal", "The reference distribution file is damaged.");
    }
    if (view.getInt32(12, true) !== vocabSize) {
      throw new QuantaError(
        "invalid_request",
        `This variant's vocabulary (${vocabSize} tokens) differs from the reference's (${view.getInt32(12, true)}), so they are not variants of one model.`,
      );
    }
    if (view.getUint32(8, true) !== plan.contextSize || view.getInt32(16, true) !== plan.chunks) {
      throw new QuantaError(
        "invalid_request",
        "This variant tokenizes the text differently from the reference, so they are not variants of one model.",
      );
    }
    const referenceTokens = new Int32Array(plan.chunks * plan.contextSize);
    await handle.read(new Uint8Array(referenceTokens.buffer), 0, referenceTokens.byteLength, HEADER_BYTES);
    if (referenceTokens.some((token, index) => tokens[index] !== token)) {
      throw new QuantaError(
        "invalid_request",
        "This variant tokenizes the text differently from the reference, so they are not variants of one model.",
      );
    }
    const size = (await handle.stat()).size;
    if (size !== referenceFileBytes(plan, vocabSize))
      throw new QuantaError("internal", "The reference distribution file is damaged (its size is wrong).");
    const dataOffset = HEADER_BYTES + referenceTokens.byteLength;
    const logits = logitsBlock(plan, vocabSize);
    const rows = new Uint16Array(new SharedArrayBuffer(slots * plan.scoredPerChunk * 2));
    const klds = new Float64Array(plan.chunks * plan.scoredPerChunk);
    let nll = 0;
    let scored = 0;
    let sameTop = 0;
    for (let chunk = 0; chunk < plan.chunks; chunk++) {
      const window = windowAt(tokens, plan, chunk, bos);
      // The window decodes on llama.cpp's threads while its reference rows are read.
      const decoded = evaluator.decode({ tokens: window, first: plan.first });
      await handle.read(new Uint8Array(rows.buffer), 0, rows.byteLength, dataOffset + chunk * rows.byteLength);
      await decoded;
      await scoreWindow(evaluator, pool, "score", window, plan, logits, rows, (result) => {
        for (let index = 0; index < result.nll.length; index++) {
          nll += result.nll[index] ?? 0;
          klds[scored] = result.kld[index] ?? 0;
          if (result.sameTop[index] === 1) sameTop += 1;
          scored += 1;
        }
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
    await pool.dispose();
    await handle.close();
  }
}
