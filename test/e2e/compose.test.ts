// End to end, as a person composes in the browser: saved system prompts named, picked,
// changed, refused when a name is taken, deleted and still there after a reload (in English
// and Chinese); the message being typed counted against what the context has left, "not
// available" without a model, a warning before a message that would not fit; and the context
// meter reading the same after an engine restart.

import { execFileSync } from "node:child_process";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { STORIES_MODEL } from "../support/paths.js";
import { chooseModel } from "../support/model-picker.js";
import { servedInChromium } from "../support/serve.js";

const e2e = servedInChromium("e2e-compose", {
  copy: { "stories260K.gguf": STORIES_MODEL },
  viewport: { width: 1440, height: 900 },
});

const form = () => e2e.page.getByRole("form", { name: /^(Chat settings|对话设置)$/ });
const savedPrompts = () => form().getByRole("combobox", { name: /^(Saved prompts|已保存的提示)$/ });
const systemPrompt = () => form().getByRole("textbox", { name: /^(System prompt|系统提示)$/ });
const promptName = () => form().getByRole("textbox", { name: /^(Name|名称)$/ });
const promptsGroup = () => form().getByRole("group", { name: /^(Name|名称)$/ });
const composer = () => e2e.page.getByRole("textbox", { name: "Message" });
const draftCount = () => e2e.page.getByRole("status", { name: "Tokens of the message" });
const meter = () => e2e.page.getByRole("meter", { name: "Context used" });
const status = () => e2e.page.getByRole("status", { name: "Engine status" });
const text = async (locator: ReturnType<Page["getByRole"]>) => (await locator.textContent())?.trim() ?? "";

async function openSettings(): Promise<void> {
  if ((await form().count()) === 0) await e2e.page.getByRole("button", { name: /^(Show chat settings|显示对话设置)$/ }).click();
  await form().waitFor();
}

async function optionNames(): Promise<string[]> {
  return (await savedPrompts().locator("option").allTextContents()).slice(1).map((name) => name.trim());
}

function killEngine(): void {
  const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(e2e.app.process.pid)], { encoding: "utf8" });
  const engine = children.split("\n").find((line) => /engine/i.test(line));
  if (!engine) throw new Error(`no engine among ${children}`);
  process.kill(Number(engine.trim().split(/\s+/)[0]), "SIGKILL");
}

describe("composing", () => {
  it("names, saves, picks, changes and deletes system prompts, kept across a reload", async () => {
    await e2e.page.goto(e2e.app.url);
    await openSettings();
    expect(await text(savedPrompts().locator("option").first())).toBe("No saved prompts yet: write one above, name it and save it.");

    await systemPrompt().fill("You are a pirate.");
    await promptName().fill("Pirate");
    await form().getByRole("button", { name: "Save as new" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("status"))).toBe("Saved as “Pirate”.");
    await systemPrompt().fill("Answer in one short sentence.");
    await promptName().fill("Brief");
    await form().getByRole("button", { name: "Save as new" }).click();
    await expect.poll(() => optionNames()).toEqual(["Brief", "Pirate"]);

    // Picking one puts its text in this conversation's system prompt.
    await savedPrompts().selectOption({ label: "Pirate" });
    expect(await systemPrompt().inputValue()).toBe("You are a pirate.");
    expect(await promptName().inputValue()).toBe("Pirate");

    // Changed and saved under its name; a name another prompt has is refused, whatever its case.
    await systemPrompt().fill("You are a pirate captain.");
    await form().getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("status"))).toBe("Saved as “Pirate”.");
    await promptName().fill("brief");
    await form().getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("alert"))).toBe("A saved prompt is already called “Brief”. Choose another name.");
    await promptName().fill("   ");
    await form().getByRole("button", { name: "Save as new" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("alert"))).toBe("Give the prompt a name.");
    await promptName().fill("n".repeat(81));
    await form().getByRole("button", { name: "Save as new" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("alert"))).toBe("A prompt's name is at most 80 characters.");

    // Deleting asks first.
    await savedPrompts().selectOption({ label: "Brief" });
    await form().getByRole("button", { name: "Delete" }).click();
    const confirm = promptsGroup().getByRole("alert");
    expect(await text(confirm.locator("span"))).toBe("Delete the saved prompt “Brief”? Conversations using its text keep it.");
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("status"))).toBe("“Brief” deleted.");
    expect(await optionNames()).toEqual(["Pirate"]);
    await expect.poll(() => text(form().getByRole("status", { name: "Settings saved" }))).toBe("Settings saved for this conversation.");

    // Kept by the core: after a reload the list is there; the conversation keeps the text of the
    // prompt it was given (Brief's, picked last), deleted or not, and another pick replaces it.
    await e2e.page.reload();
    await openSettings();
    await expect.poll(() => optionNames()).toEqual(["Pirate"]);
    expect(await systemPrompt().inputValue()).toBe("Answer in one short sentence.");
    expect(await savedPrompts().inputValue()).toBe("");
    await savedPrompts().selectOption({ label: "Pirate" });
    expect(await systemPrompt().inputValue()).toBe("You are a pirate captain.");
    await expect.poll(() => text(form().getByRole("status", { name: "Settings saved" }))).toBe("Settings saved for this conversation.");
    await e2e.page.reload();
    await openSettings();
    await expect.poll(() => savedPrompts().inputValue()).not.toBe("");
    expect(await text(savedPrompts().locator("option:checked"))).toBe("Pirate");
    await expect.poll(() => text(form().getByRole("status", { name: "Settings saved" }))).toBe("Settings saved for this conversation.");

    // In Chinese, the core's refusal is worded in Chinese.
    await e2e.page.getByRole("combobox", { name: "Language" }).selectOption({ label: "简体中文" });
    await promptName().fill("PIRATE");
    await form().getByRole("button", { name: "另存为新提示" }).click();
    await expect.poll(() => text(promptsGroup().getByRole("alert"))).toBe("已有名为“Pirate”的已保存提示。请换一个名称。");
    await e2e.page.getByRole("combobox", { name: "语言" }).selectOption({ label: "English" });
  });

  it("counts the message being typed against what the context has left, and the meter reads the same after an engine restart", async () => {
    await e2e.page.getByRole("button", { name: "New chat", exact: true }).click();
    // No model yet: not available, never 0.
    await composer().fill("Once upon a time");
    await expect.poll(() => text(draftCount())).toBe("Token count not available: no model is loaded");
    await expect.poll(() => meter().getAttribute("aria-valuetext")).toBe("not available: no model is loaded");

    await chooseModel(e2e.page, "stories260K");
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
    await expect.poll(() => text(draftCount())).toMatch(/^\d+ tokens · [\d,]+ left of 2,048$/);
    const first = /^(\d+) tokens · ([\d,]+) left/.exec(await text(draftCount()));
    const [shortTokens, shortLeft] = [Number(first?.[1]), Number(first?.[2]?.replace(/,/g, ""))];
    expect(shortTokens).toBeGreaterThan(0);
    expect(shortLeft).toBeLessThan(2048 - shortTokens);
    // Nothing said yet, but the conversation's system prompt (the saved pirate one) is in the context already.
    await expect.poll(() => meter().getAttribute("aria-valuetext")).toMatch(/^[1-9]\d* of 2,048 tokens$/);
    const systemOnly = Number(/^(\d+)/.exec((await meter().getAttribute("aria-valuetext")) ?? "")?.[1]);
    // What is left takes away the conversation, the message and the template's own tokens around it.
    expect(shortLeft).toBeLessThan(2048 - systemOnly - shortTokens);
    expect(shortLeft).toBeGreaterThan(2048 - systemOnly - shortTokens - 32);

    // Typing goes on as fast as keys come, and the count follows once it pauses.
    await composer().press("End");
    const more = ", there was a little girl named Lily who loved to play in the park with her dog";
    await composer().pressSequentially(more, { delay: 0 });
    expect(await composer().inputValue()).toBe(`Once upon a time${more}`);
    await expect.poll(async () => Number(/^(\d+) tokens/.exec(await text(draftCount()))?.[1])).toBeGreaterThan(shortTokens + 5);

    await e2e.page.getByRole("button", { name: "Send" }).click();
    const reply = e2e.page.getByRole("log", { name: "Messages" }).getByRole("article", { name: "Assistant" }).last();
    await reply.getByText(/tok\/s · [\d.,]+ ms to first token/).waitFor({ timeout: 60_000 });
    await expect.poll(() => meter().getAttribute("aria-valuetext")).toMatch(/^[1-9][\d,]* of 2,048 tokens$/);
    const before = await meter().getAttribute("aria-valuetext");

    // The engine dies and comes back: the conversation is counted the same, not "0 of 2,048".
    killEngine();
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 30_000 }).not.toBe("ready");
    await expect.poll(() => status().getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
    await expect.poll(() => meter().getAttribute("aria-valuetext"), { timeout: 30_000 }).toBe(before);

    // A conversation limited to 128 tokens: a long message is said not to fit, and Send warns first.
    await openSettings();
    await form().getByRole("spinbutton", { name: "Context size" }).fill("128");
    await expect.poll(() => meter().getAttribute("aria-valuetext")).toMatch(/ 128 /);
    await composer().fill("Lily went to the park and played with her ball all day long. ".repeat(12));
    await expect.poll(() => text(draftCount())).toMatch(/^\d+ tokens · too long for the context of 128, even alone$/);
    const articles = await e2e.page.getByRole("article").count();
    await e2e.page.getByRole("button", { name: "Send" }).click();
    const warning = e2e.page.locator("form.composer").getByRole("alert");
    await expect.poll(() => text(warning.locator("p"))).toMatch(/^This message needs [\d,]+ tokens, more than the context of 128 holds/);
    await warning.getByRole("button", { name: "Keep editing" }).click();
    expect(await warning.count()).toBe(0);
    expect(await e2e.page.getByRole("article").count()).toBe(articles);
    expect(await composer().inputValue()).toContain("Lily went to the park");

    // At 1024×768 the count stays on screen under the composer.
    await e2e.page.setViewportSize({ width: 1024, height: 768 });
    const box = await draftCount().boundingBox();
    expect(box).not.toBeNull();
    expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= 1024).toBe(true);
    await e2e.page.setViewportSize({ width: 1440, height: 900 });
  });
});
