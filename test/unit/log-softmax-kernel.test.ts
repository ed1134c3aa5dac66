// The evaluation's WebAssembly kernel against the plain arithmetic of evaluation-math.ts (itself
// checked against float64 computations): the reference's compact rows come out identical, and
// NLL, KL divergence and the same-top test agree to float32 exp's precision (llama-perplexity's).

import { describe, expect, it } from "vitest";
import { compactLevel, compactSlots, encodeReferencePosition, scoreAgainstReference } from "../../electron/engine/evaluation-math.js";
import { LogSoftmaxKernel } from "../../electron/engine/kernel/log-softmax-kernel.js";

function randomLogits(n: number, seed: number, spread: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * spread;
  });
}

const kernel = LogSoftmaxKernel.create();

describe("the log-softmax kernel", () => {
  it("runs here (Node and Electron have WebAssembly SIMD)", () => {
    expect(kernel).not.toBeNull();
  });

  // Odd sizes and sizes that are not a multiple of 4 take the kernel's tail path.
  for (const vocab of [5, 7, 64, 101, 32000, 152065]) {
    it(`writes the same compact rows and scores as the plain arithmetic (vocabulary ${vocab})`, () => {
      if (!kernel) throw new Error("no kernel");
      for (let position = 0; position < (vocab > 10000 ? 4 : 8); position++) {
        const spread = [0.5, 3, 12, 40][position % 4] ?? 1;
        const p = randomLogits(vocab, vocab * 31 + position, spread);
        // A variant: the reference disturbed; every other position its top token moved.
        const q = Float32Array.from(p, (value, i) => value + 0.3 * Math.sin(i * 1.7 + position));
        if (position % 2 === 1) q[(position * 13) % vocab] = p.reduce((a, b) => Math.max(a, b)) + 5;
        const token = (position * 7) % vocab;

        const plainRow = new Uint16Array(compactSlots(vocab));
        const kernelRow = new Uint16Array(compactSlots(vocab)).fill(7);
        const plainNll = encodeReferencePosition(p, token, plainRow);
        const kernelNll = kernel.encode(p, token, kernelRow);
        // The padding slot of an odd vocabulary is the caller's: compare the header and the levels.
        let differing = 0;
        for (let i = 0; i < 4 + vocab; i++) if (kernelRow[i] !== plainRow[i]) differing += 1;
        expect(differing).toBe(0);
        expect(Math.abs(kernelNll - plainNll)).toBeLessThan(1e-6 * Math.max(1, Math.abs(plainNll)));

        const plain = scoreAgainstReference(q, token, plainRow);
        const fast = kernel.score(q, token, plainRow);
        expect(fast.sameTop).toBe(plain.sameTop);
        expect(Math.abs(fast.nll - plain.nll)).toBeLessThan(1e-6 * Math.max(1, Math.abs(plain.nll)));
        expect(Math.abs(fast.kld - plain.kld)).toBeLessThan(1e-5 * Math.abs(plain.kld) + 1e-7);
      }
    });
  }

  it("gives KL divergence 0 for the reference scored against itself", () => {
    if (!kernel) throw new Error("no kernel");
    const logits = randomLogits(32000, 3, 4);
    const row = new Uint16Array(compactSlots(32000));
    kernel.encode(logits, 1, row);
    const score = kernel.score(logits, 1, row);
    expect(Math.abs(score.kld)).toBeLessThan(1e-4);
    expect(score.sameTop).toBe(true);
  });
});

describe("the compact level, as llama.cpp's nearest_int", () => {
  it("rounds ties to even, maps the minimum and below to 0", () => {
    // inverseScale 1: the level is logit − minLogit rounded.
    expect(compactLevel(2.5, 0, 1)).toBe(2);
    expect(compactLevel(3.5, 0, 1)).toBe(4);
    expect(compactLevel(3.25, 0, 1)).toBe(3);
    expect(compactLevel(0, 0, 1)).toBe(0);
    expect(compactLevel(-1, 0, 1)).toBe(0);
    expect(compactLevel(70000, 0, 1)).toBe(65535);
  });
});
