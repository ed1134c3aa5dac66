// End to end, as a newcomer reads the figures and the messages: Will it fit shows every value on
// its label's row, with the same layer count as the inspector, at 1440×900 and 1024×768 and in
// both languages; chat settings refused with the range in Chinese at both sizes; and in
// Chinese, nothing the core reports (a bad file, an engine crash, a
// message too long for the context) reaches the page in English.

import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import { chooseModel } from "../support/model-picker.js";
import { STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 1024, height: 768 },
] as const;

const LANGUAGES = [
  { label: "English", models: "Models", inspect: "Inspect stories260K.gguf", fit: "Will it fit?", layers: "Layers" },
  { label: "简体中文", models: "模型", inspect: "查看 stories260K.gguf", fit: "能否装下？", layers: "层数" },
] as const;

const e2e = servedInChromium("e2e-figures", {
  copy: { "stories260K.gguf": STORIES_MODEL },
  fill: async (models) => {
    // A file that is not a model at all, as a person might drop one in a models folder.
    await fs.writeFile(path.join(models, "broken.gguf"), "this is not a model, only some text".repeat(4));
  },
});

async function chooseLanguage(label: string): Promise<void> {
  await e2e.page.getByRole("combobox", { name: /^(Language|语言)$/ }).selectOption({ label });
}

/** Three English words in a row: a sentence, not a name or a unit. */
const ENGLISH_SENTENCE = /[A-Za-z]{2,}(?:[ ,;:'’()-]+[A-Za-z]{2,}){2,}/;

/** The text of every place the core's words could appear, file names left out. */
async function coreWordedText(): Promise<string[]> {
  const places = e2e.page.locator('[role="alert"], [role="status"][aria-label], .failed, .failed-text, li .error, .problem');
  const texts = await places.allTextContents();
  return texts.map((text) => text.replace(/\S+\.gguf/g, "").trim()).filter((text) => text !== "");
}

describe("figures and words", () => {
  it("shows Will it fit's values on their labels' rows, with the inspector's layer count, at both sizes and in both languages", async () => {
    await e2e.page.goto(e2e.app.url);
    for (const language of LANGUAGES) {
      await chooseLanguage(language.label);
      await e2e.page.getByRole("tab", { name: language.models }).click();
      await e2e.page.getByRole("button", { name: language.inspect }).click();
      for (const viewport of VIEWPORTS) {
        await e2e.page.setViewportSize(viewport);
        const fit = e2e.page.locator(`dl[aria-label="${language.fit}"]`);
        await fit.waitFor({ timeout: 30_000 });
        await fit.scrollIntoViewIfNeeded();
        const terms = fit.locator("dt");
        const count = await terms.count();
        expect(count).toBeGreaterThanOrEqual(5);
        for (let index = 0; index < count; index++) {
          const term = terms.nth(index);
          const value: Locator = term.locator("xpath=following-sibling::dd[1]");
          const a = (await term.boundingBox())!;
          const b = (await value.boundingBox())!;
          // Same row: the value's first line starts level with the label, to its right.
          expect(Math.abs(a.y - b.y), `${await term.textContent()} at ${viewport.width}px`).toBeLessThan(4);
          expect(b.x).toBeGreaterThan(a.x + a.width - 1);
        }
      }
      // One count of layers: the inspector's equals the total Will it fit names (output layer included).
      const inspectorLayers = e2e.page
        .getByRole("term")
        .filter({ hasText: new RegExp(`^${language.layers}$`) })
        .locator("xpath=following-sibling::dd[1]");
      const layers = Number((await inspectorLayers.first().textContent())?.trim());
      expect(layers).toBe(6);
      expect(await e2e.page.locator(`dl[aria-label="${language.fit}"]`).textContent()).toContain("6");
    }
    await chooseLanguage("English");
  });

  it("in Chinese, words what the core reports in Chinese: a bad file, a message too long, an engine crash", async () => {
    await e2e.page.setViewportSize(VIEWPORTS[0]);
    await e2e.page.goto(e2e.app.url);
    // Load stories260K in English, then switch.
    await chooseModel(e2e.page, "stories260K");
    const status = e2e.page.getByRole("status", { name: /^(Engine status|引擎状态)$/ });
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
    await chooseLanguage("简体中文");

    // A bad file: the library says why in Chinese.
    await e2e.page.getByRole("tab", { name: "模型" }).click();
    const broken = e2e.page.locator("li").filter({ hasText: "broken.gguf" }).locator(".error");
    await expect.poll(() => broken.first().textContent(), { timeout: 30_000 }).toMatch(/[\u4e00-\u9fff]/);
    for (const text of await coreWordedText()) expect(text, text).not.toMatch(ENGLISH_SENTENCE);

    // A message far longer than a 64-token context.
    await e2e.page.getByRole("tab", { name: "聊天" }).click();
    await e2e.page.getByRole("button", { name: "显示对话设置" }).click();
    const form = e2e.page.getByRole("form", { name: "对话设置" });
    // A context above the loaded 2,048 is refused in the form, in Chinese, at 1024×768 too, inside the panel.
    for (const viewport of VIEWPORTS) {
      await e2e.page.setViewportSize(viewport);
      await form.getByRole("spinbutton", { name: "上下文大小" }).fill("4096");
      const alert = form.getByRole("alert");
      await expect
        .poll(() => alert.textContent().then((text) => text?.trim()))
        .toBe("上下文大小：64 到 2,048 之间的整数个词元（模型加载时的上下文）。");
      const [box, panel] = [(await alert.boundingBox())!, (await form.boundingBox())!];
      expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width + 1);
    }
    await e2e.page.setViewportSize(VIEWPORTS[0]);
    await form.getByRole("spinbutton", { name: "上下文大小" }).fill("64");
    await e2e.page.getByRole("textbox", { name: "消息" }).fill("The little cat walked to the old red barn and sat down. ".repeat(40));
    await e2e.page.getByRole("button", { name: "发送" }).click();
    // The composer warns first (the message cannot fit); sent anyway, the core's refusal is worded in Chinese.
    await e2e.page.getByRole("button", { name: "仍然发送" }).click();
    await expect.poll(async () => (await coreWordedText()).join(" "), { timeout: 60_000 }).toMatch(/需要 [\d,]+ 个词元/);
    for (const text of await coreWordedText()) expect(text, text).not.toMatch(ENGLISH_SENTENCE);
    await form.getByRole("spinbutton", { name: "上下文大小" }).fill("");

    // An engine crash in the middle of a reply.
    await e2e.page.getByRole("textbox", { name: "消息" }).fill("Once upon a time");
    await e2e.page.getByRole("button", { name: "发送" }).click();
    await e2e.page.getByRole("button", { name: "停止" }).first().waitFor({ timeout: 60_000 });
    const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(e2e.app.process.pid)], { encoding: "utf8" });
    const engine = children.split("\n").find((line) => /engine/i.test(line));
    expect(engine, children).toBeDefined();
    process.kill(Number(engine!.trim().split(/\s+/)[0]), "SIGKILL");
    await expect.poll(async () => (await coreWordedText()).join(" "), { timeout: 60_000 }).toMatch(/引擎意外停止/);
    for (const text of await coreWordedText()) expect(text, text).not.toMatch(ENGLISH_SENTENCE);
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
    await chooseLanguage("English");
  });
});
