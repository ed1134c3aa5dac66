import { describe, expect, it } from "vitest";
import { groupLongNumbers } from "./numbers-in-text.js";

const group = (text: string) => groupLongNumbers(text, (value) => new Intl.NumberFormat("en").format(value));

describe("numbers inside the core's sentences", () => {
  it("groups long bare numbers, at the end of a sentence too", () => {
    expect(group("x.gguf is truncated: its tensors need 85912224 bytes but the file has 1185376.")).toBe(
      "x.gguf is truncated: its tensors need 85,912,224 bytes but the file has 1,185,376.",
    );
    expect(group("The message needs 12910 tokens, but the context window holds 2048.")).toBe(
      "The message needs 12,910 tokens, but the context window holds 2048.",
    );
  });

  it("leaves names, paths, addresses and decimals alone", () => {
    for (const text of ["model-20240101.gguf", "/data/12345678/x", "localhost:54321", "v1.123456", "3.14159265 and #123456"]) {
      expect(group(text)).toBe(text);
    }
  });
});
