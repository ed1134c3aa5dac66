// End to end, a message being written is the person's work too: each conversation keeps its
// own draft while another one is open and across a reload, until it is sent.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelAndWait } from "../support/model-picker.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";
import { launchChromium, serveApp, type ServedApp } from "../support/serve.js";

let models: string;
let app: ServedApp;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  models = await tempDir("e2e-drafts");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
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
});

const composer = () => page.getByRole("textbox", { name: "Message" });
const sidebar = () => page.getByRole("navigation", { name: "Conversations" });
const log = () => page.getByRole("log", { name: "Messages" });
/** Waits until the conversation on show has `count` replies, the last one complete and saved (its figures shown). */
async function finished(count: number): Promise<void> {
  const replies = log().getByRole("article", { name: "Assistant" });
  await expect.poll(() => replies.count(), { timeout: 60_000 }).toBe(count);
  await replies
    .last()
    .getByText(/tok\/s · [\d.,]+ ms to first token/)
    .waitFor({ timeout: 60_000 });
}

describe("a message being written", () => {
  it("stays with its conversation across a switch and a reload, until it is sent", async () => {
    await page.goto(app.url);
    await loadModelAndWait(page, "stories260K");
    // Two conversations with a message each, so both are in the list.
    for (const text of ["The cat sat on the mat.", "The dog ran home."]) {
      if (text !== "The cat sat on the mat.") {
        await page.getByRole("button", { name: "New chat" }).click();
        await expect.poll(() => page.getByRole("article").count()).toBe(0);
      }
      await composer().fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      await finished(1);
    }
    const open = (title: RegExp) => sidebar().getByRole("button", { name: title }).click();

    await composer().fill("And then the dog");
    await open(/^The cat sat on the mat\./);
    await log().getByText("The cat sat on the mat.").waitFor();
    // The other conversation's draft does not follow.
    expect(await composer().inputValue()).toBe("");
    await composer().fill("And then the cat\nslept");

    await page.reload();
    await log().getByText("The dog ran home.").waitFor();
    await expect.poll(() => composer().inputValue()).toBe("And then the dog");
    await open(/^The cat sat on the mat\./);
    await expect.poll(() => composer().inputValue()).toBe("And then the cat\nslept");

    // Sent: gone from the composer, and it stays gone after a reload.
    await page.getByRole("button", { name: "Send" }).click();
    await log().getByText("slept").waitFor();
    expect(await composer().inputValue()).toBe("");
    await finished(2);
    await page.reload();
    await log().getByText("slept").waitFor();
    await expect.poll(() => composer().inputValue()).toBe("");
    // The dog's draft is still there.
    await open(/^The dog ran home\./);
    await expect.poll(() => composer().inputValue()).toBe("And then the dog");
  });
});
