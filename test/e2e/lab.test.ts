// End to end, as a person uses the Lab: `quanta serve`, Chromium, a synthetic F32 model.
// Make two variants (predicted size, progress, done), compare the three files, read the
// table, see both charts and the Pareto front, sort, export Markdown, and reopen the run.
// Then a second run at another context: both saved runs seen together, exported, one deleted.

import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";
import { writeToyModel } from "../support/toy-model.js";

const e2e = servedInChromium("e2e-lab-models", {
  // A model of another kind, for the refusal.
  copy: { "stories260K.gguf": STORIES_MODEL },
  fill: writeToyModel,
  viewport: { width: 1400, height: 1000 },
});

describe("the Lab", () => {
  it("makes two variants of a model with a predicted size and progress", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Lab" }).click();
    const make = e2e.page.getByRole("region", { name: "Make variants" });
    const source = make.getByRole("combobox", { name: "Source model" });
    await expect.poll(() => source.locator("option").count(), { timeout: 20_000 }).toBeGreaterThan(1);
    await source.selectOption({ label: (await source.getByRole("option", { name: /^toy-F32\.gguf/ }).textContent())?.trim() ?? "" });

    // Q8_0 and Q4_K_M are chosen by default; the prediction covers both.
    await expect.poll(() => make.getByRole("checkbox", { name: /Q4_K_M/ }).isChecked(), { timeout: 20_000 }).toBe(true);
    // Where the files will go is said before anything starts: beside the source (a folder the
    // user gave), or Quanta's own models folder.
    const destination = make.getByRole("group", { name: "Where the variants go" });
    expect(await destination.getByRole("radio", { name: /Beside the source/ }).isChecked()).toBe(true);
    expect(await destination.textContent()).toContain(e2e.models);
    expect(await destination.getByRole("radio", { name: /Quanta's models folder/ }).isChecked()).toBe(false);
    expect(await make.getByRole("checkbox", { name: /^Q8_0/ }).isChecked()).toBe(true);
    expect(await make.getByRole("status", { name: "Predicted size" }).textContent()).toMatch(/2 variants, about [\d.]+ (KiB|MiB) in all/);

    await make.getByRole("button", { name: "Make variants" }).click();
    const jobs = make.getByRole("list", { name: "Quantization jobs" });
    await expect.poll(() => jobs.getByText("Done: in the model list").count(), { timeout: 120_000 }).toBe(2);
  });

  it("says clearly that files of different models cannot be compared", async () => {
    const compare = e2e.page.getByRole("region", { name: "Compare variants" });
    await compare.getByRole("checkbox", { name: /^toy-F32\.gguf/ }).check();
    await compare.getByRole("checkbox", { name: /^stories260K\.gguf/ }).check();
    await compare.getByRole("button", { name: "Run comparison" }).click();
    const alert = e2e.page.getByRole("alert");
    await expect.poll(() => alert.textContent(), { timeout: 20_000 }).toMatch(/are not variants of one model/);
    await compare.getByRole("checkbox", { name: /^stories260K\.gguf/ }).uncheck();
    await e2e.page.getByRole("button", { name: "Dismiss" }).click();
  });

  it("compares the variants and shows every figure, the charts and a recommendation", async () => {
    const compare = e2e.page.getByRole("region", { name: "Compare variants" });
    // The library groups the new variants with their source: one click chooses the family.
    const family = compare.getByRole("group", { name: "toy" });
    await expect.poll(() => family.getByRole("checkbox").count(), { timeout: 20_000 }).toBe(3);
    await family.getByRole("button", { name: "Choose every variant of toy" }).click();
    for (const name of ["toy-F32.gguf", "toy-Q8_0.gguf", "toy-Q4_K_M.gguf"]) {
      expect(await compare.getByRole("checkbox", { name: new RegExp(`^${name.replaceAll(".", "\\.")}`) }).isChecked()).toBe(true);
    }
    expect(await compare.getByRole("checkbox", { name: /^stories260K\.gguf/ }).isChecked()).toBe(false);
    await compare.getByRole("combobox", { name: "Context" }).selectOption("128");
    await compare.getByRole("button", { name: "Run comparison" }).click();
    await expect.poll(() => compare.getByRole("progressbar", { name: "Comparison progress" }).count(), { timeout: 20_000 }).toBe(1);

    const table = e2e.page.getByRole("table", { name: "Variants compared" });
    await expect.poll(() => table.getByRole("row").count(), { timeout: 170_000 }).toBe(4);
    // The llama.cpp build that measured the speeds, named as Will it fit names it.
    expect(await e2e.page.locator("[data-engine-build]").textContent()).toMatch(
      /^\s*Engine build for these speeds: (prebuilt by node-llama-cpp(, [a-z0-9_]+ CPU kernels)?|built on this machine), llama\.cpp v\d+\.\d+\.\d+\s*$/,
    );
    const cells = async (name: string): Promise<string[]> =>
      (
        await table
          .getByRole("row", { name: new RegExp(name.replaceAll(".", "\\.")) })
          .getByRole("cell")
          .allTextContents()
      ).map((text) => text.trim());
    const reference = await cells("toy-F32.gguf");
    const q8 = await cells("toy-Q8_0.gguf");
    const q4 = await cells("toy-Q4_K_M.gguf");
    // Columns after the name: size, bits/weight, PPL, PPL ratio, mean KLD, ...
    expect(Number(reference[1])).toBeCloseTo(32, 0);
    expect(reference[4]).toBe("—");
    const kld = (row: string[]): number => Number((row[4] ?? "").replaceAll(",", ""));
    expect(kld(q8)).toBeGreaterThan(0);
    expect(kld(q8)).toBeLessThan(kld(q4));
    expect(Number(q4[1])).toBeLessThan(Number(q8[1]));

    // Both charts are drawn, and the front is named in text beside the first.
    for (const name of ["Quality loss against size", "Speed against bits per weight"]) {
      expect(await e2e.page.getByRole("img", { name }).locator("canvas").count()).toBeGreaterThan(0);
    }
    expect(await e2e.page.getByRole("status", { name: "Pareto front" }).textContent()).toMatch(/Pareto front: Q4_K_M → Q8_0 → F32/);
    expect(await e2e.page.getByRole("status", { name: "Recommendation" }).textContent()).toMatch(
      /use toy-Q4_K_M\.gguf|No variant stays within/,
    );

    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "lab.png") });
    await e2e.page.getByRole("img", { name: "Speed against bits per weight" }).scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "lab-results.png") });
  });

  it("sorts the table, follows the budget, and exports the report as Markdown, JSON, CSV and PNG", async () => {
    const table = e2e.page.getByRole("table", { name: "Variants compared" });
    await table.getByRole("button", { name: /Mean KLD/ }).click();
    const first = async () => (await table.getByRole("row").nth(1).getByRole("rowheader").textContent())?.trim() ?? "";
    expect(await first()).toMatch(/^toy-F32\.gguf/);
    await table.getByRole("button", { name: /Mean KLD/ }).click();
    expect(await first()).toMatch(/^toy-Q4_K_M\.gguf/);

    // A budget of 0 leaves only the reference.
    const budget = e2e.page.getByRole("spinbutton", { name: "Quality budget" });
    await budget.fill("0");
    await budget.dispatchEvent("change");
    expect(await e2e.page.getByRole("status", { name: "Recommendation" }).textContent()).toMatch(/use toy-F32\.gguf/);

    const [download] = await Promise.all([e2e.page.waitForEvent("download"), e2e.page.getByRole("button", { name: "Markdown" }).click()]);
    const markdown = await fs.readFile(await download.path(), "utf8");
    expect(markdown).toMatch(/^# Quantization comparison: toy/);
    expect(markdown.split("\n").filter((line) => line.startsWith("| toy-"))).toHaveLength(3);

    const saved = async (button: string): Promise<Buffer> => {
      const [file] = await Promise.all([
        e2e.page.waitForEvent("download"),
        e2e.page.getByRole("button", { name: button, exact: true }).click(),
      ]);
      return fs.readFile(await file.path());
    };
    const json = JSON.parse((await saved("JSON")).toString("utf8")) as { variants: Array<{ fileType: string }> };
    expect(json.variants.map((variant) => variant.fileType)).toEqual(["F32", "Q8_0", "Q4_K_M"]);
    const csv = (await saved("CSV")).toString("utf8").trim().split("\n");
    expect(csv[0]).toMatch(/^variant,type,size MiB,bits\/weight,PPL,PPL ratio,mean KLD/);
    expect(csv).toHaveLength(4);
    const png = await saved("PNG");
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    await fs.writeFile(path.join(REPO_ROOT, "test-results", "lab-export.png"), png);
  });

  it("runs one prompt side by side, marks where each variant leaves the reference, and colours the reference's tokens", async () => {
    const side = e2e.page.getByRole("region", { name: "One prompt, side by side" });
    await side.getByRole("textbox", { name: "Prompt" }).fill("Once upon a time there was");
    await side.getByRole("spinbutton", { name: "Tokens" }).fill("32");
    await side.getByRole("spinbutton", { name: "Tokens" }).dispatchEvent("change");
    await side.getByRole("button", { name: "Run side by side" }).click();
    for (const name of ["toy-Q8_0.gguf", "toy-Q4_K_M.gguf"]) {
      const where = side.getByRole("status", { name: `Where ${name} leaves the reference` });
      await expect.poll(() => where.count(), { timeout: 120_000 }).toBe(1);
      expect(await where.textContent()).toMatch(/Leaves the reference's path at token \d+|Follows the reference all the way/);
    }
    const reference = side.getByRole("region", { name: "Continuation by toy-F32.gguf" });
    expect(((await reference.textContent()) ?? "").length).toBeGreaterThan("toy-F32.gguf".length + "Once upon a time there was".length);
    for (const type of ["F32", "Q8_0", "Q4_K_M"]) {
      const row = side.getByRole("group", { name: `Probabilities under toy-${type}.gguf` });
      expect(await row.locator("span[title]").count()).toBeGreaterThan(0);
    }
    await side.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "lab-side-by-side.png") });
  });

  it("lists the run as saved and reopens it after a reload", async () => {
    await e2e.page.reload();
    await e2e.page.getByRole("tab", { name: "Lab" }).click();
    const saved = e2e.page.getByRole("list", { name: "Saved runs" });
    await expect.poll(() => saved.getByRole("listitem").count(), { timeout: 20_000 }).toBe(1);
    expect(await e2e.page.getByRole("table", { name: "Variants compared" }).count()).toBe(0);
    await saved.getByRole("button", { name: /^Open the run of toy/ }).click();
    await expect
      .poll(() => e2e.page.getByRole("table", { name: "Variants compared" }).getByRole("row").count(), { timeout: 10_000 })
      .toBe(4);
  });

  it("compares two saved runs in one table and one chart, exports them, and deletes one", async () => {
    // A second, smaller run of the same model at another context.
    const compare = e2e.page.getByRole("region", { name: "Compare variants" });
    const family = compare.getByRole("group", { name: "toy" });
    await expect.poll(() => family.getByRole("checkbox").count(), { timeout: 20_000 }).toBe(3);
    await compare.getByRole("checkbox", { name: /^toy-F32\.gguf/ }).check();
    await compare.getByRole("checkbox", { name: /^toy-Q8_0\.gguf/ }).check();
    await compare.getByRole("combobox", { name: "Context" }).selectOption("64");
    await compare.getByRole("button", { name: "Run comparison" }).click();
    const saved = e2e.page.getByRole("list", { name: "Saved runs" });
    await expect.poll(() => saved.getByRole("listitem").count(), { timeout: 170_000 }).toBe(2);

    // Compare stays off until two runs are chosen.
    const compareRuns = e2e.page.getByRole("button", { name: /^Compare chosen runs/ });
    expect(await compareRuns.isDisabled()).toBe(true);
    const choices = saved.getByRole("checkbox", { name: /^Compare toy from/ });
    expect(await choices.count()).toBe(2);
    await choices.nth(0).check();
    expect(await compareRuns.isDisabled()).toBe(true);
    await choices.nth(1).check();
    await compareRuns.click();

    const together = e2e.page.getByRole("region", { name: "Saved runs compared" });
    const table = together.getByRole("table", { name: "Runs compared" });
    // A header, three variants of the first run and two of the second.
    await expect.poll(() => table.getByRole("row").count(), { timeout: 10_000 }).toBe(6);
    const runOf = async (row: number): Promise<string> =>
      ((await table.getByRole("row").nth(row).getByRole("cell").first().textContent()) ?? "").trim();
    const runs = await Promise.all([1, 2, 3, 4, 5].map(runOf));
    expect(runs.filter((label) => /^toy · All texts together · context 128 · /.test(label))).toHaveLength(3);
    expect(runs.filter((label) => /^toy · All texts together · context 64 · /.test(label))).toHaveLength(2);
    const q8 = table.getByRole("row", { name: /toy-Q8_0\.gguf/ });
    expect(await q8.count()).toBe(2);
    // Each run's mean KLD is its own: the Q8_0 rows have one each, above zero.
    for (const index of [0, 1]) {
      const cells = (await q8.nth(index).getByRole("cell").allTextContents()).map((text) => text.trim());
      expect(Number((cells[5] ?? "").replaceAll(",", ""))).toBeGreaterThan(0);
    }

    // One quality chart with a Pareto front per run, both written out, and a speed chart.
    for (const name of ["Quality loss against size", "Generation speed against bits per weight"]) {
      expect(await together.getByRole("img", { name }).locator("canvas").count()).toBeGreaterThan(0);
    }
    const fronts = together.getByRole("list", { name: "Pareto front" });
    expect(await fronts.getByRole("listitem").count()).toBe(2);
    expect(await fronts.getByRole("listitem").filter({ hasText: "context 64" }).textContent()).toMatch(
      /Pareto front: (Q8_0 → F32|F32|Q8_0)$/,
    );

    const [download] = await Promise.all([e2e.page.waitForEvent("download"), together.getByRole("button", { name: "CSV" }).click()]);
    const csv = (await fs.readFile(await download.path(), "utf8")).trim().split("\n");
    expect(csv[0]).toMatch(/^run,model,text,context,date,machine,variant,type,size MiB/);
    expect(csv).toHaveLength(6);
    expect(csv.filter((line) => /^[^,]+,toy,All texts together,64,/.test(line))).toHaveLength(2);
    const [picture] = await Promise.all([e2e.page.waitForEvent("download"), together.getByRole("button", { name: "PNG" }).click()]);
    const png = await fs.readFile(await picture.path());
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    await fs.writeFile(path.join(REPO_ROOT, "test-results", "lab-runs-export.png"), png);

    await together.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "lab-runs.png") });
    await e2e.page.emulateMedia({ colorScheme: "dark" });
    // Let the buttons' colour transitions finish before the picture.
    await e2e.page.waitForTimeout(500);
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "lab-runs-dark.png") });
    await e2e.page.emulateMedia({ colorScheme: "light" });

    // Deleting asks first; keeping changes nothing.
    const deleteButtons = saved.getByRole("button", { name: /^Delete the run of toy/ });
    await deleteButtons.first().click();
    const confirm = saved.getByRole("group", { name: /^Delete the run of toy from .*cannot be undone/ });
    await confirm.getByRole("button", { name: "Keep" }).click();
    expect(await saved.getByRole("listitem").count()).toBe(2);
    await deleteButtons.first().click();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => saved.getByRole("listitem").count(), { timeout: 10_000 }).toBe(1);
    // One run is left: nothing to see together any more, and it stays deleted after a reload.
    expect(await e2e.page.getByRole("region", { name: "Saved runs compared" }).count()).toBe(0);
    await e2e.page.reload();
    await e2e.page.getByRole("tab", { name: "Lab" }).click();
    await expect.poll(() => e2e.page.getByRole("list", { name: "Saved runs" }).getByRole("listitem").count(), { timeout: 20_000 }).toBe(1);
    // With one run there is nothing to choose it with.
    expect(await e2e.page.getByRole("checkbox", { name: /^Compare toy from/ }).count()).toBe(0);
    expect(await e2e.page.getByRole("button", { name: /^Compare chosen runs/ }).count()).toBe(0);
  });
});
