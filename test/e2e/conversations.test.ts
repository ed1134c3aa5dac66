// End to end, as a person keeps using the chat: two conversations that survive a reload,
// renaming and searching them, editing a message and regenerating replies (with the version
// switcher), exporting Markdown, and the interface in Simplified Chinese.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Locator } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";
import { chooseModel } from "../support/model-picker.js";

const e2e = servedInChromium("e2e-conversations", {
  copy: { "stories260K.gguf": STORIES_MODEL },
});

beforeAll(() => {
  e2e.page.on("console", (message) => {
    if (message.type() === "error") console.error("page console:", message.text());
  });
});

const sidebar = () => e2e.page.getByRole("navigation", { name: "Conversations" });
const log = () => e2e.page.getByRole("log", { name: "Messages" });
const replies = () => log().getByRole("article", { name: "Assistant" });
/** The words of the last reply, without its buttons and figures. */
const lastReplyText = () => replies().last().locator(".body").textContent();

async function loadStories(): Promise<void> {
  await chooseModel(e2e.page, "stories260K");
  const status = e2e.page.getByRole("status", { name: "Engine status" });
  await expect.poll(() => status.getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");
}

/** Waits until a reply has its figures, i.e. it is complete and saved. */
async function finished(reply: Locator): Promise<void> {
  await reply.getByText(/tok\/s · [\d.,]+ ms to first token/).waitFor({ timeout: 60_000 });
}

async function send(text: string): Promise<void> {
  const count = await replies().count();
  await e2e.page.getByRole("textbox", { name: "Message" }).fill(text);
  await e2e.page.getByRole("button", { name: "Send" }).click();
  await expect.poll(() => replies().count()).toBe(count + 1);
  await finished(replies().last());
}

describe("conversations in the browser", () => {
  it("keeps two conversations with their messages across a reload", async () => {
    await e2e.page.goto(e2e.app.url);
    await loadStories();
    await send("Once upon a time there was a cat.");
    const catReply = (await replies().last().textContent()) ?? "";

    await e2e.page.getByRole("button", { name: "New chat" }).click();
    await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
    await send("The dog ran home to Zanzibar.");

    await e2e.page.reload();
    await sidebar()
      .getByRole("button", { name: /^Once upon a time there was a cat\./ })
      .waitFor();
    // Newest first.
    const titles = await sidebar().locator("button[aria-current], button.open").allTextContents();
    expect(titles[0]).toContain("The dog ran home to Zanzibar.");
    expect(titles[1]).toContain("Once upon a time there was a cat.");
    await log().getByText("The dog ran home to Zanzibar.").waitFor();

    await sidebar()
      .getByRole("button", { name: /^Once upon a time there was a cat\./ })
      .click();
    await log().getByText("Once upon a time there was a cat.").waitFor();
    await expect.poll(() => replies().last().textContent()).toBe(catReply);
    await expect.poll(() => log().getByText("The dog ran home to Zanzibar.").count()).toBe(0);
  });

  it("renames a conversation and finds conversations by title and by content", async () => {
    await sidebar().getByRole("button", { name: "Rename “Once upon a time there was a cat.”" }).click();
    await sidebar().getByRole("textbox", { name: "New name" }).fill("Cat story");
    await sidebar().getByRole("button", { name: "Save name" }).click();
    await sidebar()
      .getByRole("button", { name: /^Cat story/ })
      .waitFor();
    await e2e.page.getByRole("heading", { name: "Cat story" }).waitFor();

    const search = sidebar().getByRole("searchbox", { name: "Search conversations" });
    // A word no stories260K reply contains: the cat's reply is sampled, and "dog ran" can be in it.
    await search.fill("zanzibar");
    await expect
      .poll(() =>
        sidebar()
          .getByRole("button", { name: /^Cat story/ })
          .count(),
      )
      .toBe(0);
    await sidebar()
      .getByRole("button", { name: /^The dog ran home to Zanzibar\./ })
      .waitFor();
    await search.fill("cat story");
    await expect
      .poll(() =>
        sidebar()
          .getByRole("button", { name: /^The dog ran home to Zanzibar\./ })
          .count(),
      )
      .toBe(0);
    await sidebar()
      .getByRole("button", { name: /^Cat story/ })
      .waitFor();
    await search.fill("");
    await sidebar()
      .getByRole("button", { name: /^The dog ran home to Zanzibar\./ })
      .waitFor();
  });

  it("deletes a conversation with Undo at hand, starts one with Ctrl+Shift+O, and refuses an empty message", async () => {
    await sidebar().getByRole("button", { name: "Delete “The dog ran home to Zanzibar.”" }).click();
    await sidebar().getByRole("status").getByText("Deleted “The dog ran home to Zanzibar.”.").waitFor();
    await expect
      .poll(() =>
        sidebar()
          .getByRole("button", { name: /^The dog ran home to Zanzibar\./ })
          .count(),
      )
      .toBe(0);
    await sidebar().getByRole("button", { name: "Undo" }).click();
    await sidebar()
      .getByRole("button", { name: /^The dog ran home to Zanzibar\./ })
      .waitFor();
    await log().getByText("The dog ran home to Zanzibar.").waitFor();

    await e2e.page.keyboard.press("Control+Shift+O");
    await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
    await expect.poll(() => sidebar().getByRole("listitem").count()).toBe(3);
    const composer = e2e.page.getByRole("textbox", { name: "Message" });
    await composer.fill("   ");
    expect(await e2e.page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await composer.press("Enter");
    await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
    await composer.fill("");

    await sidebar()
      .getByRole("button", { name: /^Cat story/ })
      .click();
    await log().getByText("Once upon a time there was a cat.").waitFor();
  });

  it("edits a message and regenerates replies, keeping every version reachable", async () => {
    const firstReply = (await lastReplyText()) ?? "";
    await log().getByRole("article", { name: "You" }).getByRole("button", { name: "Edit message" }).click();
    await log().getByRole("textbox", { name: "Edited message" }).fill("Once upon a time there was a big cat.");
    await log().getByRole("button", { name: "Save and regenerate" }).click();
    await log().getByText("Once upon a time there was a big cat.").waitFor();
    await finished(replies().last());
    const you = log().getByRole("article", { name: "You" });
    await you.getByText("2 / 2").waitFor();
    await expect.poll(() => you.getByLabel("Version 2 of 2").count()).toBe(1);

    await you.getByRole("button", { name: "Previous version" }).click();
    await log().getByText("Once upon a time there was a cat.").waitFor();
    await you.getByText("1 / 2").waitFor();
    await expect.poll(lastReplyText).toBe(firstReply);

    await replies().last().getByRole("button", { name: "Regenerate reply" }).click();
    await replies().last().getByText("2 / 2").waitFor({ timeout: 60_000 });
    await finished(replies().last());
    await replies().last().getByRole("button", { name: "Previous version" }).click();
    await replies().last().getByText("1 / 2").waitFor();
    await expect.poll(lastReplyText).toBe(firstReply);

    // The choice of version survives a reload.
    await e2e.page.reload();
    await log().getByText("Once upon a time there was a cat.").waitFor();
    await log().getByRole("article", { name: "You" }).getByText("1 / 2").waitFor();
    await replies().last().getByText("1 / 2").waitFor();
  });

  it("exports the conversation as Markdown", async () => {
    const [download] = await Promise.all([
      e2e.page.waitForEvent("download"),
      e2e.page.getByRole("button", { name: "Export as Markdown" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("Cat-story.md");
    const text = await fs.readFile(await download.path(), "utf8");
    const reply = (await replies().last().locator(".body").textContent())?.trim() ?? "";
    expect(text.startsWith("# Cat story\n\n## You\n\nOnce upon a time there was a cat.\n\n## Assistant\n\n")).toBe(true);
    expect(reply.length).toBeGreaterThan(10);
    expect(text.replace(/\s+/g, " ")).toContain(reply.replace(/\s+/g, " ").slice(0, 20));

    // JSON keeps every version: both wordings of the message and all three replies.
    const [json] = await Promise.all([e2e.page.waitForEvent("download"), e2e.page.getByRole("button", { name: "Export as JSON" }).click()]);
    expect(json.suggestedFilename()).toBe("Cat-story.json");
    const exported = JSON.parse(await fs.readFile(await json.path(), "utf8")) as {
      format: string;
      exportedAt: string;
      chat: { title: string; createdAt: string; updatedAt: string; messages: { text: string }[] };
      allMessages: { role: string; text: string; createdAt: string; provenance?: { model: { fileName: string } } }[];
    };
    expect(exported.format).toBe("quanta-chat");
    expect(exported.chat.title).toBe("Cat story");
    // The chat file's own dates: made before its first message, changed by the last reply, both before the export.
    const created = Date.parse(exported.chat.createdAt);
    const updated = Date.parse(exported.chat.updatedAt);
    expect(created).toBeLessThanOrEqual(Date.parse(exported.allMessages[0]!.createdAt));
    expect(updated).toBeGreaterThanOrEqual(created);
    expect(updated).toBeLessThan(Date.parse(exported.exportedAt));
    expect(exported.chat.messages[0]?.text).toBe("Once upon a time there was a cat.");
    expect(exported.allMessages.filter((m) => m.role === "user").map((m) => m.text)).toEqual([
      "Once upon a time there was a cat.",
      "Once upon a time there was a big cat.",
    ]);
    const allReplies = exported.allMessages.filter((m) => m.role === "assistant");
    expect(allReplies).toHaveLength(3);
    expect(allReplies.every((m) => m.provenance?.model.fileName === "stories260K.gguf")).toBe(true);
  });

  it("applies a conversation's settings, keeps them, and shows what was left out to fit the context", async () => {
    await e2e.page.getByRole("button", { name: "Show chat settings" }).click();
    const form = e2e.page.getByRole("form", { name: "Chat settings" });
    await form.getByRole("textbox", { name: "System prompt" }).fill("You tell stories about cats.");
    await form.getByRole("combobox", { name: "Sampling preset" }).selectOption({ label: "Precise" });
    await form.getByRole("spinbutton", { name: /^Max tokens/ }).fill("64");
    // Applied as typed: no button to forget.
    await expect
      .poll(() =>
        form
          .getByRole("status", { name: "Settings saved" })
          .textContent()
          .then((text) => text?.trim()),
      )
      .toBe("Settings saved for this conversation.");

    // The reply before filled the 2,048-token context: the oldest turns make room.
    await send("The cat sat on the mat.");
    const last = replies().last();
    await last.getByText(/^stories260K\.gguf \(F32\) · temperature 0\.2 · /).waitFor();
    await last.getByText(/earlier messages? (was|were) left out to fit the context/).waitFor();
    expect(await e2e.page.getByRole("meter", { name: "Context used" }).getAttribute("aria-valuenow")).not.toBeNull();

    await e2e.page.reload();
    await log().getByText("The cat sat on the mat.").waitFor();
    await e2e.page.getByRole("button", { name: "Show chat settings" }).click();
    await expect.poll(() => form.getByRole("textbox", { name: "System prompt" }).inputValue()).toBe("You tell stories about cats.");
    expect(await form.getByRole("spinbutton", { name: /^Max tokens/ }).inputValue()).toBe("64");
    expect(await form.getByRole("combobox", { name: "Sampling preset" }).inputValue()).toBe("precise");
  });

  it("uses settings typed just before sending, and refuses out-of-range values with the range", async () => {
    const form = e2e.page.getByRole("form", { name: "Chat settings" });
    const maxTokens = form.getByRole("spinbutton", { name: /^Max tokens/ });
    // Typed and sent at once, without waiting for anything: the reply still stops at 3 tokens.
    await maxTokens.fill("3");
    await send("The cat saw a bird.");
    const stats =
      (await replies()
        .last()
        .getByText(/tok\/s · /)
        .textContent()) ?? "";
    expect(Number(/(\d+) tokens?$/.exec(stats.trim())?.[1])).toBeLessThanOrEqual(3);

    // A context above the loaded model's 2,048, or absurdly large, is refused in the form with the range.
    const context = form.getByRole("spinbutton", { name: "Context size" });
    for (const value of ["4096", "1000000000"]) {
      await context.fill(value);
      await expect
        .poll(() =>
          form
            .getByRole("alert")
            .textContent()
            .then((text) => text?.trim()),
        )
        .toBe("Context size: a whole number of tokens from 64 to 2,048, the context the model is loaded with.");
      expect(await context.getAttribute("aria-invalid")).toBe("true");
      expect(await form.getByRole("status", { name: "Settings saved" }).textContent()).toContain("Not saved");
    }
    // No developer's wording anywhere on the page.
    expect(await e2e.page.locator("body").textContent()).not.toMatch(/Invalid call|updateChatSettings|Too big/);
    // A smaller context than the conversation fills: said so, never "415 of 128".
    await context.fill("128");
    const meter = e2e.page.getByRole("meter", { name: "Context used" });
    await expect.poll(() => meter.getAttribute("aria-valuetext")).toMatch(/^[\d,]+ tokens, more than the 128 of the context/);
    await context.fill("");
    await maxTokens.fill("64");
    await expect.poll(() => form.getByRole("alert").count()).toBe(0);
    await expect
      .poll(() =>
        form
          .getByRole("status", { name: "Settings saved" })
          .textContent()
          .then((text) => text?.trim()),
      )
      .toBe("Settings saved for this conversation.");
  });

  it("speaks Simplified Chinese when chosen, and a screenshot shows the finished chat", async () => {
    await e2e.page.getByRole("combobox", { name: "Language" }).selectOption({ label: "简体中文" });
    await e2e.page.getByRole("navigation", { name: "对话" }).waitFor();
    await e2e.page.getByRole("searchbox", { name: "搜索对话" }).waitFor();
    await e2e.page.getByRole("button", { name: "导出为 Markdown" }).waitFor();
    await e2e.page.getByRole("button", { name: "重新生成回复" }).first().waitFor();
    await e2e.page.getByRole("combobox", { name: "语言" }).selectOption({ label: "English" });
    await e2e.page.getByRole("navigation", { name: "Conversations" }).waitFor();

    await e2e.page.getByRole("form", { name: "Chat settings" }).waitFor();
    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.setViewportSize({ width: 1440, height: 900 });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "conversations.png") });
    // The theme follows the system: the same page with a dark preference.
    await e2e.page.emulateMedia({ colorScheme: "dark" });
    // Let the buttons' colour transitions finish before the picture.
    await e2e.page.waitForTimeout(500);
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "conversations-dark.png") });
    await e2e.page.emulateMedia({ colorScheme: "light" });
  });
});
