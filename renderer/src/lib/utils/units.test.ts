import { describe, expect, it } from "vitest";
import { GIB, KIB, MIB, scaleBytes } from "./units.js";

describe("sizes", () => {
  it("uses binary units throughout, as llama.cpp and the Lab's charts do", () => {
    expect(scaleBytes(512)).toEqual({ value: 512, unit: "B", digits: 0 });
    expect(scaleBytes(379 * KIB)).toEqual({ value: 379, unit: "KiB", digits: 0 });
    expect(scaleBytes(1.5 * MIB)).toEqual({ value: 1.5, unit: "MiB", digits: 1 });
    expect(scaleBytes(649 * MIB).unit).toBe("MiB");
    expect(scaleBytes(12 * GIB)).toEqual({ value: 12, unit: "GiB", digits: 0 });
    // 1000 bytes is not yet a kilo-anything in binary units.
    expect(scaleBytes(1000).unit).toBe("B");
  });
});
