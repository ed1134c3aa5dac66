// The short version of the fault suite's hostile-GGUF loop (test/soak/hostile-gguf.ts): one
// round of the whole catalogue against a real core and engine.

import { describe, expect, it } from "vitest";
import hostileGguf from "../soak/hostile-gguf.js";

describe("hostile GGUF files against the real core and engine", () => {
  it("lists each with its reason, inspects or refuses cleanly, fails every load cleanly, never crashes the engine", async () => {
    const result = await hostileGguf({ iterations: 1 });
    expect(result.figures.problems).toBeUndefined();
    expect(result.figures["engine crashes"]).toBe(0);
    expect(result.figures.kinds).toBeGreaterThanOrEqual(25);
    expect(result.ok).toBe(true);
  }, 300_000);
});
