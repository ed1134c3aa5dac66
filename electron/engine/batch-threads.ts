// Two thread counts on one node-llama-cpp context: one for single tokens (generation), one
// for batches (prompts, evaluation windows), as llama.cpp's own context keeps them
// (llama_set_n_threads(ctx, n_threads, n_threads_batch)). node-llama-cpp 3.22 sets both to one
// count before every decode; this sets the count for the batch about to be decoded instead,
// from its size. During a batch the JavaScript thread is idle, so a batch gains from every
// core; a single token loses when its compute threads fight the JavaScript thread.

import type { LlamaContext } from "node-llama-cpp";

/** The parts of node-llama-cpp's native context (its internal `_ctx`) this relies on. */
interface NativeContext {
  initBatch(size: number): unknown;
  decodeBatch(): Promise<unknown>;
  setThreads(threads: number): unknown;
}

function isNativeContext(value: unknown): value is NativeContext {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.initBatch === "function" && typeof candidate.decodeBatch === "function" && typeof candidate.setThreads === "function"
  );
}

export interface ThreadCounts {
  /** Threads for one token at a time. */
  generation: number;
  /** Threads for a batch of two or more tokens. */
  batch: number;
}

/**
 * Makes `context` decode batches of two or more tokens with `counts.batch` threads and single
 * tokens with `counts.generation`. Returns false, changing nothing, where node-llama-cpp's
 * context does not have the shape this was written for: then one count serves both.
 */
export function useBatchThreads(context: LlamaContext, counts: ThreadCounts): boolean {
  const native = (context as unknown as { _ctx?: unknown })._ctx;
  if (!isNativeContext(native)) return false;
  if (counts.batch === counts.generation) return true;
  const initBatch = native.initBatch.bind(native);
  const decodeBatch = native.decodeBatch.bind(native);
  const setThreads = native.setThreads.bind(native);
  let size = 1;
  // The addon's methods are read-only on its prototype: own properties on this one context shadow them.
  try {
    Object.defineProperty(native, "initBatch", {
      configurable: true,
      value: (tokens: number) => {
        size = tokens;
        return initBatch(tokens);
      },
    });
    Object.defineProperty(native, "decodeBatch", {
      configurable: true,
      value: () => {
        // After node-llama-cpp's own setThreads, just before the decode it applies to.
        setThreads(size > 1 ? counts.batch : counts.generation);
        return decodeBatch();
      },
    });
  } catch {
    return false;
  }
  return true;
}
