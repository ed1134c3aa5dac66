import { describe, expect, it } from "vitest";
import { chooseThreads, threadCandidates } from "../../electron/engine/threads.js";

describe("thread candidates", () => {
  it("tries every count on small machines", () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(4)).toEqual([1, 2, 3, 4]);
  });

  it("spreads at most six trials over large machines, always including all cores", () => {
    const sixteen = threadCandidates(16);
    expect(sixteen.length).toBeLessThanOrEqual(6);
    expect(sixteen[0]).toBe(1);
    expect(sixteen.at(-1)).toBe(16);
    expect([...sixteen].sort((a, b) => a - b)).toEqual(sixteen);
    expect(new Set(sixteen).size).toBe(sixteen.length);
  });
});

describe("choosing a thread count", () => {
  it("picks the fastest, as on a 2-core machine where 2 threads collapse", () => {
    expect(
      chooseThreads([
        { threads: 1, tokensPerSecond: 3900 },
        { threads: 2, tokensPerSecond: 60 },
      ]),
    ).toBe(1);
    expect(
      chooseThreads([
        { threads: 1, tokensPerSecond: 240 },
        { threads: 2, tokensPerSecond: 290 },
      ]),
    ).toBe(2);
  });

  it("prefers fewer threads when more are within noise", () => {
    expect(
      chooseThreads([
        { threads: 2, tokensPerSecond: 101 },
        { threads: 1, tokensPerSecond: 100 },
      ]),
    ).toBe(1);
  });

  it("refuses an empty measurement", () => {
    expect(() => chooseThreads([])).toThrow();
  });
});
