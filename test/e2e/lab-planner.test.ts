// End to end, as a person uses the Lab's planner ("What would it take"): `quanta serve`,
// Chromium. Pick 175B and read the F16, Q8_0 and Q4_K_M rows; measure the bandwidth and see
// the speed bound; the GPT-3 example; a library model's own shape from its header.

import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import { servedInChromium } from "../support/serve.js";
import { writeToyModel } from "../support/toy-model.js";

const e2e = servedInChromium("e2e-planner-models", {
  fill: writeToyModel,
  viewport: { width: 1400, height: 1000 },
});

/** The cells of the row whose header starts with the type's name. */
async function rowOf(table: Locator, type: string): Promise<string[]> {
  const row = table.getByRole("row").filter({ has: e2e.page.getByRole("rowheader", { name: new RegExp(`^${type} `) }) });
  return (await row.getByRole("cell").allTextContents()).map((text) => text.trim());
}

describe("the Lab's planner", () => {
  it("shows what 175B takes at F16, Q8_0 and Q4_K_M, with the KV cache, the fit and the speed bound", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Lab" }).click();
    const planner = e2e.page.getByRole("region", { name: "What would it take" });
    await planner.getByRole("combobox", { name: "Parameters" }).selectOption({ label: "175B parameters" });
    const table = planner.getByRole("table", { name: "Plan by type" });
    // 175B × 16 / 8 = 350 GB = 326 GiB; × 8.5 / 8 = 186 GB = 173 GiB; × 4.9 / 8 = 107 GB = 99.8 GiB
    // (sizes show in binary units, rounded to whole GiB from 10 up). The rule of thumb gives 96
    // layers with 8 KV heads of 128: at 4,096 tokens, 2 × 96 × 8 × 128 × 4,096 × 2 B = 1.5 GiB.
    await expect.poll(() => rowOf(table, "F16"), { timeout: 20_000 }).toEqual(expect.arrayContaining(["326 GiB", "1.5 GiB", "327 GiB"]));
    const f16 = await rowOf(table, "F16");
    const q8 = await rowOf(table, "Q8_0");
    const q4 = await rowOf(table, "Q4_K_M");
    expect(q8.slice(0, 3)).toEqual(["173 GiB", "1.5 GiB", "175 GiB"]);
    expect(q4.slice(0, 3)).toEqual(["100 GiB", "1.5 GiB", "101 GiB"]);
    expect(await planner.textContent()).toContain("96 layers, width 12,288, 96 heads of 128, 8 KV heads.");
    // A Q8_0 cache, as the load options offer: 34 bytes per 32 elements, 1.5 GiB × 34/64 = 816 MiB.
    expect(await planner.textContent()).toContain("Memory = weights + F16 KV cache at the context");
    await planner.getByRole("combobox", { name: "KV cache type" }).selectOption("Q8_0");
    await expect.poll(async () => (await rowOf(table, "Q4_K_M")).slice(0, 3)).toEqual(["100 GiB", "816 MiB", "101 GiB"]);
    expect(await planner.textContent()).toContain("Memory = weights + Q8_0 KV cache at the context");
    await planner.getByRole("combobox", { name: "KV cache type" }).selectOption("F16");
    // No GPU here: VRAM is not available rather than zero; RAM is the monitor's reading.
    expect(f16[4]).toBe("not available (no GPU)");
    // The RAM reading arrives with the monitor's first sample; this machine has far less than 327 GiB.
    await expect.poll(async () => (await rowOf(table, "F16"))[3], { timeout: 20_000 }).toBe("does not fit");
    // Without a bandwidth measurement there is no speed bound; after one, an upper bound per type.
    expect(f16[5]).toBe("not available");
    await planner.getByRole("button", { name: "Measure bandwidth" }).click();
    await expect.poll(async () => (await rowOf(table, "Q4_K_M"))[5], { timeout: 60_000 }).toMatch(/^≤ [\d.,]+ tok\/s$/);
    const bound = (cells: string[]) => Number((cells[5] ?? "").replace(/[^\d.]/g, ""));
    expect(bound(await rowOf(table, "Q4_K_M"))).toBeGreaterThan(bound(await rowOf(table, "F16")));
    expect(await planner.textContent()).toMatch(/Upper bound: measured bandwidth [\d.,]+ GB\/s/);
  });

  it("offers GPT-3 as published, and a library model's own shape", async () => {
    const planner = e2e.page.getByRole("region", { name: "What would it take" });
    await planner.getByRole("button", { name: "Example: GPT-3 175B" }).click();
    const table = planner.getByRole("table", { name: "Plan by type" });
    // Full multi-head attention: 2 × 96 × 96 × 128 × 2,048 × 2 B = 9 GiB at GPT-3's 2,048 tokens.
    await expect.poll(async () => (await rowOf(table, "F16")).slice(0, 3), { timeout: 20_000 }).toEqual(["326 GiB", "9 GiB", "335 GiB"]);
    expect(await planner.textContent()).toContain("96 heads of 128, 96 KV heads.");

    await planner.getByRole("combobox", { name: "Shape" }).selectOption({ label: "This family: toy" });
    await expect.poll(() => planner.textContent(), { timeout: 20_000 }).toContain("2 layers, width 256");
    expect(await planner.textContent()).toContain("Read from the model's header.");
  });
});
