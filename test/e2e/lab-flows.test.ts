// End to end, as a person uses the Lab at 1024×768: a text too short for the context is
// refused in the form (both token counts, in English and Chinese) before anything runs; an
// added text is deleted after a confirm, a built-in one offers no delete; a quality-only run
// shows its speeds as "not measured" (table, chart, exports) and the table needs no sideways
// scrolling; side by side keeps the prompt apart from each continuation; the heatmap says
// what its colours mean and marks the first divergence.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const shots = path.join(REPO_ROOT, "test-results");

const e2e = servedInChromium("e2e-lab-flows", {
  fill: async (models) => {
    const shape = { tokenizerFrom: STORIES_MODEL, embeddingLength: 256, layers: 1, feedForwardLength: 256, heads: 4, name: "flow" };
    await writeSyntheticLlama(path.join(models, "flow-F32.gguf"), { ...shape, type: "F32", seed: 5 });
    // Same shapes and vocabulary, other weights: a variant that leaves the reference's path early.
    await writeSyntheticLlama(path.join(models, "flow-F16.gguf"), { ...shape, type: "F16", seed: 6 });
    await fs.mkdir(shots, { recursive: true });
  },
  viewport: { width: 1024, height: 768 },
});

/**
 * A function for Playwright to run in the page, from its text: this project's tests have no DOM
 * types, so the page's code is written as text and Playwright sends the function's source.
 */
function pageFunction(source: string): (element: unknown) => unknown {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only builds the function here; Playwright sends its text to the page
  return (new Function(`return (${source});`) as () => (element: unknown) => unknown)();
}

async function inPage<T>(locator: Locator, source: string): Promise<T> {
  const result: unknown = await locator.evaluate(pageFunction(source));
  return result as T;
}

/** The same on every element the locator finds. */
async function inPageAll<T>(locator: Locator, source: string): Promise<T> {
  const result: unknown = await locator.evaluateAll(pageFunction(source));
  return result as T;
}

const compare = () => e2e.page.getByRole("region", { name: /^(Compare variants|比较版本)$/ });

describe("the Lab's flows at 1024 px", () => {
  it("refuses a text too short for the context in the form, with both token counts, in both languages", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Lab" }).click();
    const form = compare();
    await expect.poll(() => form.getByRole("checkbox", { name: /^flow-/ }).count(), { timeout: 20_000 }).toBe(2);
    await form.getByRole("button", { name: "Choose every variant of flow" }).click();
    await form
      .getByLabel("Add a text file…")
      .setInputFiles({ name: "short.txt", mimeType: "text/plain", buffer: Buffer.from("Once upon a time.") });
    const text = form.getByRole("combobox", { name: "Evaluation text" });
    await expect.poll(async () => (await text.locator("option:checked").textContent()) ?? "", { timeout: 20_000 }).toMatch(/^short\.txt/);
    await form.getByRole("combobox", { name: "Context" }).selectOption("64");
    const tokens = form.getByRole("status", { name: "Tokens in the text" });
    await expect
      .poll(() => tokens.textContent(), { timeout: 60_000 })
      .toMatch(/This text is (\d+) tokens long by flow-F32\.gguf's tokenizer; a context of 64 needs at least 64\./);
    const count = Number(/is (\d+) tokens/.exec((await tokens.textContent()) ?? "")?.[1]);
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThan("Once upon a time.".length);
    expect(await form.getByRole("button", { name: "Run comparison" }).isDisabled()).toBe(true);

    await e2e.page.getByRole("combobox", { name: /^(Language|语言)$/ }).selectOption({ label: "简体中文" });
    await expect
      .poll(() => compare().getByRole("status", { name: "文本的词元数" }).textContent())
      .toBe(`按 flow-F32.gguf 的分词器，此文本只有 ${count} 个词元；上下文 64 至少需要 64 个。请选择更长的文本或更小的上下文。`);
    await e2e.page.getByRole("combobox", { name: /^(Language|语言)$/ }).selectOption({ label: "English" });
    await e2e.page.screenshot({ path: path.join(shots, "lab-flows-short-text.png") });
  });

  it("deletes an added text after a confirm, and offers no delete for a built-in text", async () => {
    const form = compare();
    await form.getByRole("button", { name: "Delete the evaluation text short.txt" }).click();
    const confirm = form.getByRole("group", { name: /Delete the evaluation text short\.txt\?/ });
    await confirm.getByRole("button", { name: "Keep" }).click();
    expect(await form.getByRole("combobox", { name: "Evaluation text" }).locator("option", { hasText: "short.txt" }).count()).toBe(1);
    await form.getByRole("button", { name: "Delete the evaluation text short.txt" }).click();
    await form
      .getByRole("group", { name: /Delete the evaluation text short\.txt\?/ })
      .getByRole("button", { name: "Delete" })
      .click();
    const text = form.getByRole("combobox", { name: "Evaluation text" });
    await expect.poll(() => text.locator("option", { hasText: "short.txt" }).count(), { timeout: 10_000 }).toBe(0);
    await text.selectOption({ label: (await text.locator("option", { hasText: "Dialogue" }).textContent())?.trim() ?? "" });
    expect(await form.getByRole("button", { name: /^Delete the evaluation text/ }).count()).toBe(0);
    await expect
      .poll(() => form.getByRole("status", { name: "Tokens in the text" }).textContent(), { timeout: 60_000 })
      .toMatch(/^\d[\d,]* tokens by flow-F32\.gguf's tokenizer; a context of 64 needs at least 64\.$/);
  });

  it("runs quality only: speeds read 'not measured' in the table, chart and exports; the table fits without scrolling", async () => {
    const form = compare();
    await form.getByRole("checkbox", { name: "Quality only (skip the speed tests)" }).check();
    await form.getByRole("button", { name: "Run comparison" }).click();
    const table = e2e.page.getByRole("table", { name: "Variants compared" });
    await expect.poll(() => table.getByRole("row").count(), { timeout: 120_000 }).toBe(3);
    for (const name of ["flow-F32.gguf", "flow-F16.gguf"]) {
      const cells = (
        await table
          .getByRole("row", { name: new RegExp(name.replaceAll(".", "\\.")) })
          .getByRole("cell")
          .allTextContents()
      ).map((cell) => cell.trim());
      // Size, bits/weight, PPL, ratio, 4 × KLD, same top, then prompt and generation speed.
      expect(cells.slice(9, 11)).toEqual(["not measured", "not measured"]);
      expect(cells.every((cell) => cell !== "0" && cell !== "0.0")).toBe(true);
    }
    expect(await e2e.page.getByRole("img", { name: "Speed against bits per weight" }).count()).toBe(0);
    expect(await e2e.page.getByRole("note").filter({ hasText: "Speed not measured: this was a quality-only run." }).count()).toBe(1);
    // Every column in view at 1024 px: nothing to scroll sideways for.
    // Run in the page, given as text: this project's tests have no DOM types.
    const fits = await inPage<{ scroll: number; client: number; right: number; view: number }>(
      table,
      `(element) => {
      const wrap = element.parentElement;
      return { scroll: wrap.scrollWidth, client: wrap.clientWidth, right: element.getBoundingClientRect().right, view: window.innerWidth };
    }`,
    );
    expect(fits.scroll).toBeLessThanOrEqual(fits.client);
    expect(fits.right).toBeLessThanOrEqual(fits.view);
    await e2e.page.getByRole("table", { name: "Variants compared" }).scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(shots, "lab-flows-quality-only.png") });

    const download = e2e.page.waitForEvent("download");
    await e2e.page.getByRole("button", { name: "CSV" }).click();
    const csv = (await fs.readFile(await (await download).path(), "utf8")).trim().split("\n");
    const header = csv[0]!.split(",");
    const pp = header.indexOf("pp tok/s");
    expect(csv.slice(1).map((line) => line.split(",")[pp])).toEqual(["not measured", "not measured"]);
  });

  it("writes the charts' labels where none overlaps another, inside the chart, with speeds measured", async () => {
    const form = compare();
    await form.getByRole("checkbox", { name: "Quality only (skip the speed tests)" }).uncheck();
    await form.getByRole("button", { name: "Run comparison" }).click();
    const speed = e2e.page.getByRole("img", { name: "Speed against bits per weight" });
    await expect.poll(() => speed.count(), { timeout: 150_000 }).toBe(1);
    const table = e2e.page.getByRole("table", { name: "Variants compared" });
    const cells = (
      await table
        .getByRole("row", { name: /flow-F16\.gguf/ })
        .getByRole("cell")
        .allTextContents()
    ).map((cell) => cell.trim());
    expect(Number(cells[10]?.replaceAll(",", ""))).toBeGreaterThan(0);
    for (const name of ["Speed against bits per weight", "Quality loss against size"]) {
      const chart = e2e.page.getByRole("img", { name });
      await expect.poll(() => chart.getAttribute("data-labels")).not.toBeNull();
      const { labels, width, height } = await inPage<{
        labels: Array<{ name: string; left: number | null; top: number; width: number; height: number }>;
        width: number;
        height: number;
      }>(
        chart,
        `(element) => ({ labels: JSON.parse(element.dataset.labels ?? "[]"), width: element.clientWidth, height: element.clientHeight })`,
      );
      const placed = labels.filter(
        (label): label is { name: string; left: number; top: number; width: number; height: number } => label.left !== null,
      );
      // Two variants: every label finds a place.
      expect(placed.length, name).toBe(name.startsWith("Speed") ? 4 : 2);
      for (const a of placed) {
        expect(a.left).toBeGreaterThanOrEqual(0);
        expect(a.left + a.width).toBeLessThanOrEqual(width);
        expect(a.top + a.height).toBeLessThanOrEqual(height);
        for (const b of placed) {
          if (a === b) continue;
          const apart = a.left + a.width <= b.left || b.left + b.width <= a.left || a.top + a.height <= b.top || b.top + b.height <= a.top;
          expect(apart, `${a.name} and ${b.name} in ${name}`).toBe(true);
        }
      }
    }
    await speed.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(shots, "lab-flows-charts.png") });
  });

  it("keeps the prompt apart from each continuation, and the heatmap names its colours and marks the first divergence", async () => {
    const side = e2e.page.getByRole("region", { name: "One prompt, side by side" });
    await side.getByRole("textbox", { name: "Prompt" }).fill("Lily.");
    await side.getByRole("spinbutton", { name: "Tokens" }).fill("16");
    await side.getByRole("spinbutton", { name: "Tokens" }).dispatchEvent("change");
    await side.getByRole("button", { name: "Run side by side" }).click();
    const where = side.getByRole("status", { name: "Where flow-F16.gguf leaves the reference" });
    await expect.poll(() => where.count(), { timeout: 120_000 }).toBe(1);
    const leaves = Number(/at token (\d+)/.exec((await where.textContent()) ?? "")?.[1]);
    expect(leaves).toBeGreaterThanOrEqual(1);

    // The prompt's last character and the continuation's first are visibly apart (not "Lily.She").
    for (const name of ["flow-F32.gguf", "flow-F16.gguf"]) {
      const gap = await inPage<{
        gap: number;
        seamWidth: number;
      }>(
        side.getByRole("region", { name: `Continuation by ${name}` }),
        `(column) => {
        const prompt = column.querySelector(".prompt-echo");
        const seam = prompt.nextElementSibling;
        let next = seam ? seam.nextElementSibling : null;
        while (next && (next.textContent ?? "") === "") next = next.nextElementSibling;
        const range = document.createRange();
        range.setStart(prompt.firstChild, prompt.textContent.length - 1);
        range.setEnd(prompt.firstChild, prompt.textContent.length);
        const end = range.getBoundingClientRect().right;
        const start = next.getBoundingClientRect().left;
        return { gap: start - end, seamWidth: seam ? seam.getBoundingClientRect().width : 0 };
      }`,
      );
      expect(gap.gap).toBeGreaterThanOrEqual(6);
      expect(gap.seamWidth).toBeGreaterThan(0);
    }

    // A legend says what each colour means.
    const legend = side.getByRole("list", { name: "Probability each variant gives the reference's token" });
    expect((await legend.getByRole("listitem").allTextContents()).map((item) => item.trim())).toEqual([
      "≥ 50 %",
      "20–50 %",
      "5–20 %",
      "1–5 %",
      "< 1 %",
      "First divergence: the variant's top token differs from the reference's",
    ]);
    // The variant's row marks the first divergence, at the token the side-by-side names.
    const row = side.getByRole("group", { name: "Probabilities under flow-F16.gguf" });
    const marked = row.locator("span.diverges");
    expect(await marked.count()).toBe(1);
    const index = await inPage<number>(marked, "(span) => [...span.parentElement.children].indexOf(span)");
    expect(index + 1).toBe(leaves);
    expect(await marked.getAttribute("aria-label")).toBe("First divergence: flow-F16.gguf's top token differs from the reference's here");
    expect(await side.getByRole("group", { name: "Probabilities under flow-F32.gguf" }).locator("span.diverges").count()).toBe(0);
    // A token the variant finds unlikely is coloured unlike one it finds likely.
    const colours = await inPageAll<Array<{ p: number; colour: string }>>(
      row.locator("span"),
      `(spans) => spans.map((span) => ({ p: Number.parseFloat(span.getAttribute("title") ?? "0"), colour: getComputedStyle(span).backgroundColor }))`,
    );
    const likely = colours.filter((entry) => entry.p >= 50).map((entry) => entry.colour);
    const unlikely = colours.filter((entry) => entry.p < 20).map((entry) => entry.colour);
    for (const colour of unlikely) expect(likely).not.toContain(colour);
    await side.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(shots, "lab-flows-side-by-side.png") });
  });
});
