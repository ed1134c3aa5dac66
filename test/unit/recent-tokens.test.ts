// The repeat penalty's window of recent tokens: always what slicing the whole context would give.

import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { RecentTokens } from "../../electron/engine/recent-tokens.js";

describe("RecentTokens", () => {
  it("holds the last N tokens, oldest first, as the context grows past N", () => {
    for (const initialLength of [0, 1, 5, 63, 64, 65, 200]) {
      const context = Array.from({ length: initialLength }, (_, i) => (i * 7) as Token);
      const recent = new RecentTokens(64, context);
      expect(recent.toArray()).toEqual(context.slice(-64));
      for (let step = 0; step < 150; step++) {
        const token = (1000 + step) as Token;
        context.push(token);
        recent.push(token);
        expect(recent.toArray()).toEqual(context.slice(-64));
      }
    }
  });

  it("returns a fresh array each time, so a caller cannot change what it holds", () => {
    const recent = new RecentTokens(4, [1, 2, 3] as Token[]);
    const first = recent.toArray();
    first.push(99 as Token);
    expect(recent.toArray()).toEqual([1, 2, 3]);
  });
});
