// End to end, in Will it fit, as a person coming from LM Studio sets load options: a context
// size typed (not only a preset) and checked against the trained one, the KV cache type and
// flash attention changing the estimate's KV cache, refusals said in the form, a load with the
// options, and what is in effect after it in the panel and the Hardware view; remembered after
// a reload. A synthetic llama with heads of 64 values takes a Q8_0 cache; stories260K (heads of 8) cannot.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const e2e = servedInChromium("e2e-load-options", {
  copy: { "stories260K.gguf": STORIES_MODEL },
  fill: async (models) => {
    await writeSyntheticLlama(path.join(models, "synthetic-heads64.gguf"), {
      tokenizerFrom: STORIES_MODEL,
      embeddingLength: 256,
      layers: 2,
      feedForwardLength: 512,
      heads: 4,
      contextLength: 4096,
      type: "F16",
      seed: 5,
      name: "synthetic heads of 64",
    });
  },
  viewport: { width: 1440, height: 900 },
});

/** The value beside a label in a list of figures. */
function figure(list: Locator, label: string): Locator {
  return list.locator("dt", { hasText: new RegExp(`^${label}$`) }).locator("xpath=following-sibling::dd[1]");
}

async function inspect(fileName: string): Promise<void> {
  const button = e2e.page.getByRole("button", { name: `Inspect ${fileName}` });
  await button.waitFor({ timeout: 30_000 });
  await button.click();
  await expect.poll(() => e2e.page.getByRole("status", { name: "Will it fit?" }).textContent(), { timeout: 30_000 }).toBe("Fits");
}

describe("load options in Will it fit", () => {
  it("changes the KV cache estimate with the cache type, refuses what cannot load, loads with the options and shows them in effect", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Models" }).click();
    await inspect("synthetic-heads64.gguf");
    const estimate = e2e.page.locator("dl[aria-label='Will it fit?']");
    const options = e2e.page.getByRole("group", { name: "Load options" });
    const context = e2e.page.getByRole("spinbutton", { name: "Context size" });
    const kvType = options.getByRole("combobox", { name: "KV cache type" });
    const flash = options.getByRole("combobox", { name: "Flash attention" });

    // Any context size, not only the presets: 1,000 tokens are allocated as 1,024 (llama.cpp's steps of 256).
    await context.fill("1000");
    const kv = figure(estimate, "KV cache");
    // 2 layers × 4 heads × 64 values, keys and values, F16, 1,024 positions: 2 MiB.
    await expect.poll(() => kv.textContent(), { timeout: 30_000 }).toBe("2 MiB");
    const f16Ram = await figure(estimate, "RAM needed").textContent();

    await kvType.selectOption("Q8_0");
    // 34 bytes per 32 values: 1,114,112 bytes.
    await expect.poll(() => kv.textContent(), { timeout: 30_000 }).toBe("1.1 MiB");
    expect(await figure(estimate, "RAM needed").textContent()).not.toBe(f16Ram);
    await kvType.selectOption("Q4_0");
    await expect.poll(() => kv.textContent(), { timeout: 30_000 }).toBe("576 KiB");

    // A quantized cache without flash attention is refused in the form, before anything is sent.
    await flash.selectOption("off");
    const needsFlash = "A Q4_0 KV cache needs flash attention: set flash attention to On or Automatic, or choose F16.";
    await expect.poll(() => options.getByRole("alert").filter({ hasText: needsFlash }).count()).toBe(1);
    expect(await e2e.page.getByRole("button", { name: "Load with these settings" }).count()).toBe(0);
    await flash.selectOption("auto");

    // A context past the trained one is refused with the range in words.
    await context.fill("99999");
    const tooLong = "Context size: a whole number of tokens from 256 to 4,096, the context this model was trained with.";
    await expect.poll(() => e2e.page.getByRole("alert").filter({ hasText: tooLong }).count()).toBe(1);
    await context.fill("1000");
    await expect.poll(() => e2e.page.getByRole("alert").filter({ hasText: tooLong }).count()).toBe(0);

    await kvType.selectOption("Q8_0");
    await options.getByRole("spinbutton", { name: "Batch size" }).fill("128");
    await options.getByRole("spinbutton", { name: "Threads for generation" }).fill("1");
    await options.getByRole("spinbutton", { name: "Threads for prompts" }).fill("2");
    await options.getByRole("combobox", { name: "Memory-map the file (mmap)" }).selectOption("off");
    const load = e2e.page.getByRole("button", { name: "Load with these settings" });
    await expect.poll(() => load.isDisabled()).toBe(false);
    await load.click();
    const status = e2e.page.getByRole("status", { name: "Engine status" });
    await expect
      .poll(async () => `${await status.getAttribute("data-state")} ${await status.textContent()}`, { timeout: 120_000 })
      .toMatch(/^ready .*synthetic-heads64/);

    // What llama.cpp really used, read back after the load.
    const inEffect = e2e.page.locator("dl[aria-label='Load options in effect']");
    await expect.poll(() => figure(inEffect, "Context allocated").textContent(), { timeout: 30_000 }).toBe("1,024 tokens");
    expect(await figure(inEffect, "KV cache type").textContent()).toMatch(/^\s*Q8_0\s*$/);
    expect(await figure(inEffect, "Batch size").textContent()).toBe("128 tokens");
    expect(await figure(inEffect, "mmap").textContent()).toBe("Off");
    expect(await figure(inEffect, "Threads").textContent()).toMatch(/^\s*1 for generation, 2 for prompts \(from settings\)\s*$/);
    // The llama.cpp build that loaded it (prebuilt: with the CPU kernels it picked for this CPU).
    const build = /^\s*(prebuilt by node-llama-cpp(, [a-z0-9_]+ CPU kernels)?|built on this machine), llama\.cpp v\d+\.\d+\.\d+\s*$/;
    const buildText = await figure(inEffect, "Engine build").textContent();
    expect(buildText).toMatch(build);
    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await options.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "models-load-options.png"), fullPage: true });

    // The Hardware view's model panel shows the same options in effect, and the loaded KV cache as Will it fit said.
    await e2e.page.getByRole("tab", { name: "Hardware" }).click();
    const panel = e2e.page.getByRole("region", { name: "Model in use" });
    await expect.poll(() => figure(panel, "Context allocated").textContent(), { timeout: 30_000 }).toBe("1,024 tokens");
    expect(await figure(panel, "KV cache type").textContent()).toMatch(/^\s*Q8_0\s*$/);
    expect(await figure(panel, "Engine build").textContent()).toBe(buildText);
    await expect.poll(() => figure(panel, "KV cache").textContent(), { timeout: 30_000 }).toBe("1.1 MiB");
  });

  it("says in the form that a model with small heads cannot take a quantized cache", async () => {
    await e2e.page.getByRole("tab", { name: "Models" }).click();
    await inspect("stories260K.gguf");
    const options = e2e.page.getByRole("group", { name: "Load options" });
    await options.getByRole("combobox", { name: "KV cache type" }).selectOption("Q8_0");
    const refusal = "This model's attention heads hold 8 values, not a multiple of 32, so a Q8_0 KV cache cannot hold them: choose F16.";
    await expect.poll(() => options.getByRole("alert").filter({ hasText: refusal }).count()).toBe(1);
    await options.getByRole("combobox", { name: "KV cache type" }).selectOption("F16");
    await expect.poll(() => options.getByRole("alert").count()).toBe(0);
  });

  it("remembers the options per model after a reload", async () => {
    await e2e.page.reload();
    await e2e.page.getByRole("tab", { name: "Models" }).click();
    await inspect("synthetic-heads64.gguf");
    const options = e2e.page.getByRole("group", { name: "Load options" });
    await expect.poll(() => options.getByRole("combobox", { name: "KV cache type" }).inputValue(), { timeout: 30_000 }).toBe("Q8_0");
    expect(await e2e.page.getByRole("spinbutton", { name: "Context size" }).inputValue()).toBe("1000");
    expect(await options.getByRole("spinbutton", { name: "Batch size" }).inputValue()).toBe("128");
    expect(await options.getByRole("spinbutton", { name: "Threads for generation" }).inputValue()).toBe("1");
  });
});
