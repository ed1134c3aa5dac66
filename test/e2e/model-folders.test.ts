// End to end, in the Models view: the folders searched for models are listed, a folder the
// user added can be removed again (its models leave the picker), and an error from a failed
// attempt goes away once the next attempt succeeds.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import { launchChromium, serveApp, type ServedApp } from "../support/serve.js";

let models: string;
let extra: string;
let app: ServedApp;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  models = await tempDir("e2e-folders-models");
  extra = await tempDir("e2e-folders-extra");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(extra, "llama-2-tiny-random.gguf"));
  app = await serveApp([models]);
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await chromium?.close();
  await app?.stop();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
  await fs.rm(extra, { recursive: true, force: true });
});

describe("model folders in the Models view", () => {
  it("lists the folders, removes an added one, and clears an old error after a success", async () => {
    await page.goto(app.url);
    await page.getByRole("tab", { name: "Models" }).click();
    const folders = page.getByRole("list", { name: "Folders searched for models" });
    await folders.getByText(models).waitFor({ timeout: 30_000 });
    // Folders from the environment are shown but are not the user's to remove here.
    expect(await page.getByRole("button", { name: `Remove folder ${models}` }).count()).toBe(0);

    const pathBox = page.getByRole("textbox", { name: "Add a folder of models" });
    await pathBox.fill(path.join(extra, "missing"));
    await page.getByRole("button", { name: "Add folder" }).click();
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toContain("missing");

    await pathBox.fill(extra);
    await page.getByRole("button", { name: "Add folder" }).click();
    await folders.getByText(extra).waitFor();
    await expect.poll(() => alert.count()).toBe(0);
    const picker = page.getByRole("combobox", { name: "Model" });
    await expect.poll(() => picker.getByRole("option", { name: /^llama-2-tiny-random / }).count()).toBe(1);

    await page.getByRole("button", { name: `Remove folder ${extra}` }).click();
    await expect.poll(() => folders.getByText(extra).count()).toBe(0);
    await expect.poll(() => picker.getByRole("option", { name: /^llama-2-tiny-random / }).count()).toBe(0);
    // Removing a folder never deletes what is in it.
    await fs.access(path.join(extra, "llama-2-tiny-random.gguf"));
  });
});
