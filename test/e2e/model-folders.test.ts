// End to end, in the Models view: the folders searched for models are listed, a folder the
// user added can be removed again (its models leave the picker), and an error from a failed
// attempt goes away once the next attempt succeeds.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

let extra: string;

const e2e = servedInChromium("e2e-folders-models", { copy: { "stories260K.gguf": STORIES_MODEL } });

beforeAll(async () => {
  extra = await tempDir("e2e-folders-extra");
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(extra, "llama-2-tiny-random.gguf"));
});

afterAll(async () => {
  await fs.rm(extra, { recursive: true, force: true });
});

describe("model folders in the Models view", () => {
  it("lists the folders, removes an added one, and clears an old error after a success", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Models" }).click();
    const folders = e2e.page.getByRole("list", { name: "Folders searched for models" });
    await folders.getByText(e2e.models).waitFor({ timeout: 30_000 });
    // Folders from the environment are shown but are not the user's to remove here.
    expect(await e2e.page.getByRole("button", { name: `Remove folder ${e2e.models}` }).count()).toBe(0);

    const pathBox = e2e.page.getByRole("textbox", { name: "Add a folder of models" });
    await pathBox.fill(path.join(extra, "missing"));
    await e2e.page.getByRole("button", { name: "Add folder" }).click();
    const alert = e2e.page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toContain("missing");

    await pathBox.fill(extra);
    await e2e.page.getByRole("button", { name: "Add folder" }).click();
    await folders.getByText(extra).waitFor();
    await expect.poll(() => alert.count()).toBe(0);
    const picker = e2e.page.getByRole("combobox", { name: "Model" });
    await expect.poll(() => picker.getByRole("option", { name: /^llama-2-tiny-random / }).count()).toBe(1);

    await e2e.page.getByRole("button", { name: `Remove folder ${extra}` }).click();
    await expect.poll(() => folders.getByText(extra).count()).toBe(0);
    await expect.poll(() => picker.getByRole("option", { name: /^llama-2-tiny-random / }).count()).toBe(0);
    // Removing a folder never deletes what is in it.
    await fs.access(path.join(extra, "llama-2-tiny-random.gguf"));
  });
});
