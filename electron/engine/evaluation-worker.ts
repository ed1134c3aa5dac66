// One of the evaluation's math threads (evaluation-pool.ts): scores a share of a block of
// positions whose logits lie in shared memory, with the same arithmetic as the main thread:
// the WebAssembly kernel where the runtime has one, else evaluation-math.ts.

import { parentPort } from "node:worker_threads";
import { encodeReferencePosition, scoreAgainstReference } from "./evaluation-math.js";
import type { MathTask, MathResult } from "./evaluation-pool.js";
import { LogSoftmaxKernel } from "./kernel/log-softmax-kernel.js";

/** This thread's kernel, made at first use; null where WebAssembly SIMD is missing. */
let kernel: LogSoftmaxKernel | null | undefined;

parentPort?.on("message", (task: MathTask) => {
  parentPort?.postMessage(runMathTask(task));
});

/** The positions from..to of a block: reference rows encoded, or scores against them. */
export function runMathTask(task: MathTask): MathResult {
  const logits = new Float32Array(task.logits);
  const rows = new Uint16Array(task.rows);
  const count = task.to - task.from;
  const nll = new Float64Array(count);
  const kld = new Float64Array(count);
  const sameTop = new Uint8Array(count);
  kernel ??= LogSoftmaxKernel.create();
  for (let index = 0; index < count; index++) {
    const position = task.from + index;
    const values = logits.subarray(position * task.vocab, (position + 1) * task.vocab);
    const row = rows.subarray((task.rowBase + position) * task.slots, (task.rowBase + position + 1) * task.slots);
    const target = task.targets[position] ?? 0;
    if (task.kind === "encode") {
      nll[index] = kernel ? kernel.encode(values, target, row) : encodeReferencePosition(values, target, row);
    } else {
      const score = kernel ? kernel.score(values, target, row) : scoreAgainstReference(values, target, row);
      nll[index] = score.nll;
      kld[index] = score.kld;
      sameTop[index] = score.sameTop ? 1 : 0;
    }
  }
  return { nll, kld, sameTop };
}
