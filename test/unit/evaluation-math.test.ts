// llama-perplexity's arithmetic: windows, the compact reference format, KL divergence and
// its summary, checked against direct float64 computations.

import { describe, expect, it } from "vitest";
import {
  compactSlots,
  encodeReferencePosition,
  negativeLogLikelihood,
  planChunks,
  referenceLogProb,
  scoreAgainstReference,
  summarizeKld,
} from "../../electron/engine/evaluation-math.js";

function logSoftmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const lse = Math.log(logits.reduce((sum, value) => sum + Math.exp(value - max), 0)) + max;
  return logits.map((value) => value - lse);
}

function randomLogits(n: number, seed: number, spread = 3): number[] {
  let state = seed;
  return Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * spread;
  });
}

describe("windows", () => {
  it("takes whole windows only and scores their second half", () => {
    expect(planChunks(1000, 128)).toEqual({ contextSize: 128, chunks: 7, first: 64, scoredPerChunk: 63 });
    expect(planChunks(127, 128).chunks).toBe(0);
    expect(planChunks(512, 512)).toEqual({ contextSize: 512, chunks: 1, first: 256, scoredPerChunk: 255 });
  });
});

describe("the compact reference", () => {
  it("keeps log-probs within llama.cpp's resolution (range / 65535) and returns the NLL", () => {
    const logits = randomLogits(101, 5);
    const exact = logSoftmax(logits);
    const row = new Uint16Array(compactSlots(logits.length));
    const nll = encodeReferencePosition(logits, 17, row);
    expect(nll).toBeCloseTo(-exact[17]!, 10);
    expect(nll).toBeCloseTo(negativeLogLikelihood(logits, 17), 12);
    const range = Math.max(...logits) - Math.min(...logits);
    for (let i = 0; i < logits.length; i++) expect(Math.abs(referenceLogProb(row, i) - exact[i]!)).toBeLessThan(range / 65535 + 1e-6);
  });

  it("gives KL divergence 0 and the same top token for the reference itself", () => {
    const logits = randomLogits(64, 9);
    const row = new Uint16Array(compactSlots(64));
    encodeReferencePosition(logits, 3, row);
    const score = scoreAgainstReference(logits, 3, row);
    expect(Math.abs(score.kld)).toBeLessThan(1e-4);
    expect(score.sameTop).toBe(true);
  });

  it("matches KL(P‖Q) computed directly, and notices a different top token", () => {
    const p = randomLogits(200, 1);
    const q = p.map((value, i) => value + 0.4 * Math.sin(i * 1.7));
    q[0] = Math.max(...p) + 5; // Q's top token is 0, P's is not
    const row = new Uint16Array(compactSlots(200));
    encodeReferencePosition(p, 4, row);
    const lp = logSoftmax(p);
    const lq = logSoftmax(q);
    const direct = lp.reduce((sum, value, i) => sum + Math.exp(value) * (value - lq[i]!), 0);
    const score = scoreAgainstReference(q, 4, row);
    expect(score.kld).toBeGreaterThan(0.1);
    expect(Math.abs(score.kld - direct) / direct).toBeLessThan(1e-3);
    expect(score.nll).toBeCloseTo(-lq[4]!, 10);
    expect(score.sameTop).toBe(false);
  });
});

describe("the KL divergence summary", () => {
  it("gives mean, median, 99th percentile and maximum", () => {
    const values = Array.from({ length: 101 }, (_, i) => i / 100);
    expect(summarizeKld(values)).toEqual({ mean: 0.5, median: 0.5, p99: 0.99, max: 1 });
    expect(summarizeKld([])).toEqual({ mean: 0, median: 0, p99: 0, max: 0 });
    // An even count: the median is the mean of the middle two; p99 interpolates.
    const even = summarizeKld([4, 1, 3, 2]);
    expect(even.median).toBe(2.5);
    expect(even.p99).toBeCloseTo(3.97, 10);
  });
});
