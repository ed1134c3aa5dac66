// End to end, the header as a newcomer uses it: choosing a model loads it, Eject unloads it,
// the picker offers the model used last (not the first alphabetically), "New chat" reuses an
// empty conversation, and the top bar's controls never overlap at 1024 and 1440 px wide, in
// English and in Chinese; the theme switch (system, light, dark) is remembered.

import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, STORIES_MODEL, TINY_RANDOM_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const e2e = servedInChromium("e2e-picker", {
  copy: {
    "stories260K.gguf": STORIES_MODEL,
    // First alphabetically: the model a picker that ignores what was used would offer.
    "llama-2-tiny-random.gguf": TINY_RANDOM_MODEL,
  },
});

const picker = () => e2e.page.getByRole("combobox", { name: "Model" });
const status = () => e2e.page.getByRole("status", { name: "Engine status" });
const optionValue = async (fileStem: string) =>
  (await picker()
    .getByRole("option", { name: new RegExp(`^${fileStem} `) })
    .getAttribute("value")) ?? "";

describe("the model picker", () => {
  it("loads the model chosen, ejects it, and offers it again after a reload", async () => {
    await e2e.page.goto(e2e.app.url);
    await expect.poll(() => picker().inputValue(), { timeout: 30_000 }).toBe(await optionValue("llama-2-tiny-random"));

    // Choosing is enough: no "Load model" press, no "Load a model first".
    const label =
      (
        await picker()
          .getByRole("option", { name: /^stories260K / })
          .textContent()
      )?.trim() ?? "";
    await picker().selectOption({ label });
    await expect
      .poll(async () => `${await status().getAttribute("data-state")} ${await status().textContent()}`, { timeout: 120_000 })
      .toMatch(/^ready .*stories260K/);

    await e2e.page.getByRole("button", { name: "Eject" }).click();
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 30_000 }).toBe("idle");
    await e2e.page.getByRole("button", { name: "Load model" }).waitFor();

    // Nothing loaded now: the picker remembers the model used last, from the data folder.
    await e2e.page.reload();
    await status().waitFor();
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 30_000 }).toBe("idle");
    await expect.poll(() => picker().inputValue()).toBe(await optionValue("stories260K"));
  });
});

describe("New chat", () => {
  it("reuses the empty conversation instead of piling up new ones", async () => {
    await e2e.page.getByRole("button", { name: "Load model" }).click();
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
    await e2e.page.getByRole("textbox", { name: "Message" }).fill("Once upon a time");
    await e2e.page.getByRole("button", { name: "Send" }).click();
    // A message is enough to make the conversation non-empty: the reply is stopped early.
    const stop = e2e.page.getByRole("button", { name: "Stop" });
    await stop.click({ timeout: 30_000 });
    await expect.poll(() => stop.count(), { timeout: 30_000 }).toBe(0);

    const chats = e2e.page.getByRole("navigation", { name: "Conversations" }).locator("li");
    const all = await chats.count();
    for (let i = 0; i < 3; i += 1) {
      await e2e.page.getByRole("button", { name: "New chat", exact: true }).click();
      await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
    }
    // One empty conversation at most, however often "New chat" is pressed.
    await expect.poll(() => chats.filter({ hasText: /\b0 messages\b/ }).count()).toBe(1);
    expect(await chats.count()).toBeLessThanOrEqual(all + 1);
  });
});

/** The header's controls (brand, tabs, picker, buttons, language) with their boxes. */
async function topBarBoxes(): Promise<{ name: string; x: number; y: number; width: number; height: number }[]> {
  const boxes = [];
  for (const control of await e2e.page.locator("header .bar :is(.brand, button, select)").all()) {
    const box = await control.boundingBox();
    if (!box || box.width === 0 || box.height === 0) continue;
    const name = (await control.getAttribute("aria-label")) ?? ((await control.textContent()) ?? "").trim().slice(0, 30);
    boxes.push({ name, ...box });
  }
  return boxes;
}

describe("the top bar", () => {
  it("keeps its controls apart at 1024×768 and 1440×900, in English and Chinese", async () => {
    const overlaps: string[] = [];
    for (const language of ["en", "zh-CN"] as const) {
      const languageSelect = e2e.page.locator("header select.language");
      await languageSelect.selectOption(language);
      for (const size of [
        { width: 1024, height: 768 },
        { width: 1440, height: 900 },
      ]) {
        await e2e.page.setViewportSize(size);
        await e2e.page.waitForTimeout(100);
        const boxes = await topBarBoxes();
        expect(boxes.length).toBeGreaterThanOrEqual(8);
        for (const [i, a] of boxes.entries()) {
          if (a.x < 0 || a.x + a.width > size.width + 0.5) overlaps.push(`${language} ${size.width}: "${a.name}" leaves the window`);
          for (const b of boxes.slice(i + 1)) {
            const apart =
              a.x + a.width <= b.x + 0.5 || b.x + b.width <= a.x + 0.5 || a.y + a.height <= b.y + 0.5 || b.y + b.height <= a.y + 0.5;
            if (!apart) overlaps.push(`${language} ${size.width}: "${a.name}" overlaps "${b.name}"`);
          }
        }
        await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
        await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", `top-bar-${language}-${size.width}.png`) });
      }
    }
    await e2e.page.locator("header select.language").selectOption("en");
    expect(overlaps).toEqual([]);
  });
});

describe("the theme switch", () => {
  it("follows the system, or stays light or dark as chosen, across a reload", async () => {
    const background = () => e2e.page.evaluate("getComputedStyle(document.body).backgroundColor");
    const theme = e2e.page.getByRole("combobox", { name: "Theme" });
    await e2e.page.emulateMedia({ colorScheme: "dark" });
    await theme.selectOption("system");
    await expect.poll(background).toBe("rgb(20, 20, 22)");
    await theme.selectOption("light");
    await expect.poll(background).toBe("rgb(246, 246, 243)");
    await e2e.page.reload();
    await expect.poll(background).toBe("rgb(246, 246, 243)");
    await e2e.page.emulateMedia({ colorScheme: "light" });
    await e2e.page.getByRole("combobox", { name: "Theme" }).selectOption("dark");
    await expect.poll(background).toBe("rgb(20, 20, 22)");
    await e2e.page.getByRole("combobox", { name: "Theme" }).selectOption("system");
    await expect.poll(background).toBe("rgb(246, 246, 243)");
  });
});
