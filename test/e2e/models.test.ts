// End to end, as a person gets a first model: `quanta serve` with no model anywhere and
// QUANTA_HUB_URL pointing at a local hub (real GGUF bytes, sent slowly enough to watch),
// driven by Chromium. The empty chat leads to the Models view and its recommended catalog;
// a search finds the repository, a file is downloaded with visible progress, verified, and
// appears in the library and in the model picker; its inspector shows the tensor table.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { startFakeHub, type FakeHub } from "../support/fake-hub.js";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";
import { chooseModel } from "../support/model-picker.js";

const REPO = "test-org/Stories-GGUF";
let hub: FakeHub;
const saved: Record<string, string | undefined> = {};

// The hub and the environment first: the served app reads them when it starts.
beforeAll(async () => {
  hub = await startFakeHub();
  const bytes = await fs.readFile(STORIES_MODEL);
  hub.addRepo(REPO, [
    { path: "stories260K-F32.gguf", bytes },
    { path: "stories260K-Q8_0.gguf", bytes },
  ]);
  // Slow enough that progress is seen on the way (about three seconds for 1.2 MB).
  hub.setThrottle(400_000);
  // The served app reads these from its environment: the local hub, and no other apps' folders.
  for (const [key, value] of Object.entries({ QUANTA_HUB_URL: hub.url, QUANTA_LMSTUDIO_MODELS: "", OLLAMA_MODELS: "" })) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before starting it
  await hub?.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) Reflect.deleteProperty(process.env, key);
    else process.env[key] = value;
  }
});

const e2e = servedInChromium("e2e-models-empty");

describe("getting a first model", () => {
  it("leads from the empty chat to the Models view and its recommended catalog", async () => {
    await e2e.page.goto(e2e.app.url);
    await expect.poll(() => e2e.page.getByRole("heading", { name: "No models yet" }).count(), { timeout: 30_000 }).toBe(1);
    await e2e.page.getByRole("button", { name: "Get a model" }).click();
    expect(await e2e.page.getByRole("tab", { name: "Models" }).getAttribute("aria-selected")).toBe("true");
    const catalog = e2e.page.getByRole("region", { name: "Recommended to start" });
    await expect.poll(() => catalog.getByRole("listitem").count()).toBeGreaterThanOrEqual(3);

    // Offline (the hub does not answer), the view says plainly that downloading needs a connection.
    hub.setDown(true);
    await catalog
      .getByRole("button", { name: /^Show / })
      .first()
      .click();
    const offline = e2e.page.getByRole("status").filter({ hasText: "Downloading needs an internet connection" });
    await expect.poll(() => offline.count(), { timeout: 20_000 }).toBe(1);
    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "models-first-run.png") });
    await e2e.page.getByRole("button", { name: "Dismiss" }).click();
    hub.setDown(false);
  });

  it("searches the hub, downloads a file with visible progress, and finds it in the library and the picker", async () => {
    await e2e.page.getByRole("searchbox", { name: "Search GGUF models" }).fill("stories");
    await e2e.page.getByRole("button", { name: "Search", exact: true }).click();
    await e2e.page.getByRole("button", { name: `Show files of ${REPO}` }).click();
    const files = e2e.page.getByRole("region", { name: `Files in ${REPO}` });
    await expect.poll(() => files.textContent()).toMatch(/F32.*stories260K-F32\.gguf.*1\.1 MiB/);
    // Before downloading: will it fit? (its header is read from the hub, not the whole file)
    await files.getByRole("button", { name: "Will stories260K-F32.gguf fit?" }).click();
    await expect
      .poll(() => files.getByRole("status", { name: "Fit of stories260K-F32.gguf" }).textContent(), { timeout: 30_000 })
      .toMatch(/^\s*Fits\s*$/);
    await files.getByRole("button", { name: "Download stories260K-F32.gguf" }).click();

    const progress = e2e.page.getByRole("progressbar", { name: "Download of stories260K-F32.gguf" });
    await expect.poll(async () => Number(await progress.getAttribute("aria-valuenow")), { timeout: 30_000 }).toBeGreaterThan(0);
    // Seen part-way: the bar is not yet full and the text gives bytes of the total.
    const partWay = Number(await progress.getAttribute("aria-valuenow"));
    expect(partWay).toBeLessThan(100);
    expect(await progress.getAttribute("aria-valuetext")).toMatch(/[\d.]+ (B|KiB|MiB) of 1\.1 MiB/);

    const status = e2e.page.getByRole("status", { name: "Download of stories260K-F32.gguf" });
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/Done, in the library/);
    expect(await progress.getAttribute("aria-valuenow")).toBe("100");

    const inspect = e2e.page.getByRole("button", { name: "Inspect stories260K-F32.gguf" });
    await expect.poll(() => inspect.count()).toBe(1);
    // Its family is named from the file, since the header's general.name is only "llama".
    expect(await e2e.page.getByRole("listitem").filter({ has: inspect }).first().textContent()).toMatch(/^\s*stories260K/);
    const picker = e2e.page.getByRole("combobox", { name: "Model" });
    await expect.poll(() => picker.getByRole("option", { name: /^stories260K-F32 / }).count()).toBe(1);
    // The file is where Quanta keeps what it downloads: its own models folder, per repository.
    const downloaded = path.join(e2e.app.home, "models", "test-org", "Stories-GGUF", "stories260K-F32.gguf");
    expect((await fs.stat(downloaded)).size).toBe((await fs.stat(STORIES_MODEL)).size);
  });

  it("opens the inspector and reads the tensor table", async () => {
    await e2e.page.getByRole("button", { name: "Inspect stories260K-F32.gguf" }).click();
    const tensors = e2e.page.getByRole("table", { name: "Tensors" });
    const header = await readGgufHeader(STORIES_MODEL);
    // One row per tensor, plus the heading row.
    await expect.poll(() => tensors.getByRole("row").count(), { timeout: 20_000 }).toBe(header.tensors.length + 1);
    const embedding = header.tensors.find((tensor) => tensor.name === "token_embd.weight");
    const row = tensors.getByRole("row", { name: /^token_embd\.weight/ });
    expect(await row.textContent()).toContain(`${embedding?.type}${embedding?.dims.join(" × ")}`);

    const facts = e2e.page.getByRole("definition");
    expect(await facts.allTextContents()).toEqual(expect.arrayContaining(["llama", "512", "F32"]));
    const byType = e2e.page.getByRole("table", { name: "Bytes by type" });
    expect(await byType.getByRole("row", { name: /^F32/ }).textContent()).toMatch(/100%/);

    // Will it fit: stories260K is tiny, so it fits this machine.
    await expect.poll(() => e2e.page.getByRole("status", { name: "Will it fit?" }).textContent(), { timeout: 30_000 }).toBe("Fits");

    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.setViewportSize({ width: 1280, height: 1100 });
    await e2e.page.getByRole("heading", { name: "Models", level: 1 }).scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "models.png") });
    await e2e.page.setViewportSize({ width: 1200, height: 800 });
  });

  it("adds a folder typed by path, and asks before loading a model that will not fit", async () => {
    const folder = path.join(e2e.models, "..", `${path.basename(e2e.models)}-mine`);
    await fs.mkdir(folder, { recursive: true });
    // A 78B-parameter F16 model (155 GB of weights, left as a hole in a sparse file): more than this machine has.
    await writeSyntheticLlama(path.join(folder, "huge-F16.gguf"), {
      tokenizerFrom: STORIES_MODEL,
      embeddingLength: 8192,
      feedForwardLength: 28672,
      layers: 80,
      type: "F16",
      name: "huge",
      dataless: true,
    });
    try {
      await e2e.page.getByRole("textbox", { name: "Add a folder of models" }).fill(folder);
      await e2e.page.getByRole("button", { name: "Add folder" }).click();
      const inspect = e2e.page.getByRole("button", { name: "Inspect huge-F16.gguf" });
      await expect.poll(() => inspect.count(), { timeout: 20_000 }).toBe(1);
      // The user's own folder: Quanta offers no delete for it.
      expect(await e2e.page.getByRole("button", { name: "Delete huge-F16.gguf" }).count()).toBe(0);
      expect(await e2e.page.getByRole("button", { name: "Delete stories260K-F32.gguf" }).count()).toBe(1);

      await chooseModel(e2e.page, "huge-F16");
      const prompt = e2e.page.getByRole("alertdialog", { name: "This model may not fit" });
      await expect.poll(() => prompt.count(), { timeout: 30_000 }).toBe(1);
      expect(await prompt.textContent()).toMatch(/huge-F16\.gguf.*free/);
      await prompt.getByRole("button", { name: "Cancel" }).click();
      expect(await prompt.count()).toBe(0);
      expect(await e2e.page.getByRole("status", { name: "Engine status" }).getAttribute("data-state")).not.toBe("loading");

      // Its inspector opens from the header alone, and the fit panel says the same.
      await inspect.click();
      await expect
        .poll(() => e2e.page.getByRole("status", { name: "Will it fit?" }).textContent(), { timeout: 30_000 })
        .toBe("Does not fit");
      expect(await e2e.page.getByRole("table", { name: "Tensors" }).getByRole("row").count()).toBe(3 + 80 * 9 + 1);
      await e2e.page.setViewportSize({ width: 1280, height: 1100 });
      await e2e.page.getByRole("heading", { name: "Models", level: 1 }).scrollIntoViewIfNeeded();
      await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "models-does-not-fit.png") });
      await e2e.page.setViewportSize({ width: 1200, height: 800 });
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it("loads a model with the GPU layers a person sets, and remembers them for the next time", async () => {
    // A folder of the user's with its own copy, so the downloaded file stays free to delete below.
    const folder = path.join(e2e.models, "..", `${path.basename(e2e.models)}-layers`);
    await fs.mkdir(folder, { recursive: true });
    await fs.copyFile(STORIES_MODEL, path.join(folder, "stories-layers.gguf"));
    await e2e.page.getByRole("textbox", { name: "Add a folder of models" }).fill(folder);
    await e2e.page.getByRole("button", { name: "Add folder" }).click();
    const inspect = e2e.page.getByRole("button", { name: "Inspect stories-layers.gguf" });
    await expect.poll(() => inspect.count(), { timeout: 20_000 }).toBe(1);
    await inspect.click();
    await expect.poll(() => e2e.page.getByRole("status", { name: "Will it fit?" }).textContent(), { timeout: 30_000 }).toBe("Fits");
    const layers = e2e.page.getByRole("group", { name: "GPU layers" });
    const automatic = layers.getByRole("checkbox", { name: "Automatic" });
    const count = layers.getByRole("spinbutton", { name: "GPU layers" });
    const load = layers.getByRole("button", { name: "Load with these settings" });
    // Automatic by default; the panel gives the model's layer count.
    await expect.poll(() => automatic.isChecked()).toBe(true);
    expect(await count.isDisabled()).toBe(true);
    expect(await layers.textContent()).toMatch(/\d+ layers/);

    await automatic.uncheck();
    // A number that is not a count of this model's layers (5 blocks and the output layer) is refused before anything is sent.
    const refusal = "GPU layers: a whole number from 0 to 6, the model's layers with the output layer.";
    for (const bad of ["-2", "999"]) {
      await count.fill(bad);
      await expect.poll(() => layers.getByText(refusal).count()).toBe(1);
      expect(await load.isDisabled()).toBe(true);
    }
    await count.fill("3");
    await load.click();
    const status = e2e.page.getByRole("status", { name: "Engine status" });
    await expect
      .poll(async () => `${await status.getAttribute("data-state")} ${await status.textContent()}`, { timeout: 120_000 })
      .toMatch(/^ready .*stories-layers/);
    const inUse = layers.getByRole("status", { name: "GPU layers in use" });
    // Without a GPU llama.cpp runs every layer on the CPU, whatever was asked, and the panel says so.
    if ((await layers.textContent())?.includes("CPU only: no GPU")) {
      await expect.poll(() => inUse.textContent()).toMatch(/^\s*In use: CPU only\s*$/);
    } else {
      await expect.poll(() => inUse.textContent()).toMatch(/In use: 3 of \d+ layers/);
    }

    await layers.scrollIntoViewIfNeeded();
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "models-gpu-layers.png") });

    // After a reload the model's panel shows the number it was loaded with.
    await e2e.page.reload();
    await e2e.page.getByRole("tab", { name: "Models" }).click();
    await e2e.page.getByRole("button", { name: "Inspect stories-layers.gguf" }).click();
    await expect
      .poll(() => e2e.page.getByRole("group", { name: "GPU layers" }).getByRole("spinbutton", { name: "GPU layers" }).inputValue(), {
        timeout: 30_000,
      })
      .toBe("3");
    expect(await e2e.page.getByRole("group", { name: "GPU layers" }).getByRole("checkbox", { name: "Automatic" }).isChecked()).toBe(false);
  });

  it("deletes a downloaded model after asking", async () => {
    const mine = path.join(e2e.app.home, "models", "test-org", "Stories-GGUF", "stories260K-F32.gguf");
    await e2e.page.getByRole("button", { name: "Delete stories260K-F32.gguf" }).click();
    const confirm = e2e.page.getByRole("group", { name: /^Delete stories260K-F32\.gguf from disk\?/ });
    // Keeping it changes nothing.
    await confirm.getByRole("button", { name: "Keep" }).click();
    expect((await fs.stat(mine)).isFile()).toBe(true);

    await e2e.page.getByRole("button", { name: "Delete stories260K-F32.gguf" }).click();
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => e2e.page.getByRole("button", { name: "Inspect stories260K-F32.gguf" }).count(), { timeout: 20_000 }).toBe(0);
    await expect(fs.stat(mine)).rejects.toMatchObject({ code: "ENOENT" });
    const picker = e2e.page.getByRole("combobox", { name: "Model" });
    expect(await picker.getByRole("option", { name: /^stories260K-F32 / }).count()).toBe(0);
  });
});
