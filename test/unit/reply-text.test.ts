import { describe, expect, it } from "vitest";
import { findStop, partialStopLength } from "../../electron/engine/reply-text.js";

describe("stop texts in a streamed reply", () => {
  const stops = ["\n### Human:", "</s>"];

  it("holds back the longest tail that could still become a stop text", () => {
    expect(partialStopLength("Hello\n### Hu", stops)).toBe("\n### Hu".length);
    expect(partialStopLength("Hello</", stops)).toBe(2);
    expect(partialStopLength("Hello", stops)).toBe(0);
    // A complete stop text is found by findStop, not held back as a partial.
    expect(partialStopLength("x</s>", ["</s>"])).toBe(0);
  });

  it("finds the earliest complete stop text from a position", () => {
    expect(findStop("a</s>b\n### Human:", stops, 0)).toBe(1);
    expect(findStop("a</s>b\n### Human:", stops, 2)).toBe(6);
    expect(findStop("nothing here", stops, 0)).toBe(-1);
  });
});
