// The evaluation's log-softmax work spread over threads, as llama-perplexity spreads it over
// its workers: a block of positions' logits is copied into shared memory once, and the main
// thread and the pool's workers each take a share. Every share runs the same arithmetic
// (evaluation-math.ts), so results do not depend on the number of threads.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { runMathTask } from "./evaluation-worker.js";

export interface MathTask {
  kind: "encode" | "score";
  /** Float32 logits, `vocab` per position of the block. */
  logits: SharedArrayBuffer;
  /** Uint16 compact reference rows, `slots` per position; written ("encode") or read ("score"). */
  rows: SharedArrayBuffer;
  vocab: number;
  slots: number;
  /** The row of the block's first position in `rows`. */
  rowBase: number;
  /** The token each position of the block predicts. */
  targets: Int32Array;
  from: number;
  to: number;
}

export interface MathResult {
  nll: Float64Array;
  kld: Float64Array;
  sameTop: Uint8Array;
}

export class MathPool {
  private readonly workers: Worker[];

  /**
   * `threads` in all, the calling thread included. Where the worker's compiled file is not
   * beside this one (tests run the TypeScript source), the calling thread does it all.
   */
  constructor(threads: number) {
    const entry = new URL("./evaluation-worker.js", import.meta.url);
    const count = existsSync(fileURLToPath(entry)) ? Math.max(0, Math.floor(threads) - 1) : 0;
    this.workers = Array.from({ length: count }, () => new Worker(entry));
  }

  /** Scores positions 0..count-1 of a block; the calling thread takes the first share. */
  async run(task: Omit<MathTask, "from" | "to">, count: number): Promise<MathResult> {
    const parts = Math.min(this.workers.length + 1, count);
    const bounds = Array.from({ length: parts + 1 }, (_, index) => Math.round((index * count) / parts));
    const pending = this.workers.slice(0, parts - 1).map(
      (worker, index) =>
        new Promise<MathResult>((resolve, reject) => {
          const onMessage = (result: MathResult) => {
            worker.off("error", onError);
            resolve(result);
          };
          const onError = (error: Error) => {
            worker.off("message", onMessage);
            reject(error);
          };
          worker.once("message", onMessage);
          worker.once("error", onError);
          worker.postMessage({ ...task, from: bounds[index + 1] ?? count, to: bounds[index + 2] ?? count } satisfies MathTask);
        }),
    );
    const own = runMathTask({ ...task, from: 0, to: bounds[1] ?? count });
    const results = [own, ...(await Promise.all(pending))];
    const merged: MathResult = { nll: new Float64Array(count), kld: new Float64Array(count), sameTop: new Uint8Array(count) };
    let offset = 0;
    for (const result of results) {
      merged.nll.set(result.nll, offset);
      merged.kld.set(result.kld, offset);
      merged.sameTop.set(result.sameTop, offset);
      offset += result.nll.length;
    }
    return merged;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
