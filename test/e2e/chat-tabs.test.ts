// End to end, one `quanta serve` open in several tabs, as a person with two windows uses it: a
// reply sent in one tab streams live in another tab showing the chat, a tab opened mid-reply
// catches up and streams on, closing the sending tab neither stops nor loses the reply, a
// tab in another chat is told which chat holds the engine (and a refusal names it too), and
// Stop there stops the reply for every tab, saved as stopped. Settings changed in two tabs keep
// both changes, and each tab's open settings show the other's; a rename or a deletion in one
// tab shows in the other's list, and a tab showing a conversation deleted in another leaves it
// for an empty one with its half-written message.

import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { loadModelAndWait } from "../support/model-picker.js";
import { servedInChromium } from "../support/serve.js";
import { writeTalkerModel } from "../support/talker-model.js";

const e2e = servedInChromium("e2e-tabs-models", { fill: writeTalkerModel });

async function openTab(): Promise<Page> {
  const page = await e2e.chromium.context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(e2e.app.url);
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  return page;
}

const lastReply = (page: Page): Locator => page.getByRole("article", { name: "Assistant" }).last();
/** The reply's length as shown (with its role label: while it streams, nothing else is in the article). */
const replyLength = async (page: Page): Promise<number> => (await lastReply(page).textContent())?.length ?? 0;

/** The reply is still on its way in this tab: marked busy, no figures, no "Stopped". */
async function expectStreaming(page: Page): Promise<void> {
  expect(await lastReply(page).getAttribute("aria-busy")).toBe("true");
  expect(await lastReply(page).getByText("Stopped").count()).toBe(0);
}

/** Waits until the reply has grown past `than` characters, while still streaming. */
async function growsPast(page: Page, than: number): Promise<number> {
  await expect.poll(() => replyLength(page), { timeout: 60_000 }).toBeGreaterThan(Math.max(than, "Assistant".length));
  await expectStreaming(page);
  return replyLength(page);
}

describe("one chat in several tabs", () => {
  it("streams to every tab, names the busy chat elsewhere, and stops from another tab", async () => {
    const sender = await openTab();
    await loadModelAndWait(sender, "synthetic-talker");
    // A second tab, open on the same conversation before anything is sent.
    const watcher = await openTab();
    const title = async (page: Page) => page.getByRole("heading", { level: 2 }).first().textContent();
    expect(await title(watcher)).toBe(await title(sender));

    await sender.getByRole("textbox", { name: "Message" }).fill("Talk forever.");
    await sender.getByRole("button", { name: "Send" }).click();

    // The watching tab shows the message and the reply's text growing, long before it ends.
    await watcher.getByRole("log", { name: "Messages" }).getByText("Talk forever.").waitFor({ timeout: 30_000 });
    const first = await growsPast(watcher, 0);
    await growsPast(watcher, first);
    // Its own Stop is there: the reply is this chat's, whichever tab sent it.
    expect(await watcher.getByRole("button", { name: "Stop", exact: true }).isVisible()).toBe(true);

    // A tab opened now catches up with the text so far, then streams on.
    const late = await openTab();
    await late.getByRole("log", { name: "Messages" }).getByText("Talk forever.").waitFor({ timeout: 30_000 });
    const caughtUp = await growsPast(late, 0);
    await growsPast(late, caughtUp);

    // The sending tab goes away: the reply neither stops nor is lost.
    await sender.close();
    const afterClose = await replyLength(watcher);
    await growsPast(watcher, afterClose);

    // In another chat, the late tab is told which chat holds the engine...
    await late.getByRole("button", { name: "New chat", exact: true }).click();
    await expect.poll(() => late.getByRole("article").count()).toBe(0);
    const busy = late.getByRole("status", { name: "Engine busy" });
    await busy.waitFor({ timeout: 30_000 });
    expect(await busy.textContent()).toContain("Quanta is writing a reply in “Talk forever.”.");
    // ...and a refusal names it too, with the same way out.
    await late.getByRole("button", { name: "Eject" }).click();
    const refusal = late.getByRole("alert");
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.textContent()).toContain("Quanta is writing a reply in “Talk forever.”. Wait for it, or stop it.");
    expect(await refusal.getByRole("button", { name: "Stop the reply in “Talk forever.”" }).count()).toBe(1);
    // The same in Chinese: the core sends a code and the chat's title, the page words them.
    await late.getByRole("combobox", { name: "Language" }).selectOption({ label: "简体中文" });
    await expect
      .poll(() => late.getByRole("status", { name: "引擎忙碌" }).textContent())
      .toContain("Quanta 正在“Talk forever.”中生成回复。");
    expect(await refusal.textContent()).toContain("Quanta 正在“Talk forever.”中生成回复。请等待完成，或先停止它。");
    expect(await refusal.getByRole("button", { name: "停止“Talk forever.”中的回复" }).count()).toBe(1);
    await late.getByRole("combobox", { name: "语言" }).selectOption({ label: "English" });

    // Open takes the tab to that chat, streaming; back in the new chat, Stop ends the reply.
    await busy.getByRole("button", { name: "Open “Talk forever.”" }).click();
    await late.getByRole("log", { name: "Messages" }).getByText("Talk forever.").waitFor();
    await growsPast(late, await replyLength(late));
    await late.getByRole("button", { name: "New chat", exact: true }).click();
    await busy.waitFor();
    // A message sent here waits its turn, and the line says so.
    await late.getByRole("textbox", { name: "Message" }).fill("Hello?");
    await late.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => busy.textContent()).toContain("The reply here starts once it is done.");
    await busy.getByRole("button", { name: "Stop the reply in “Talk forever.”" }).click();

    // Stopped for every tab, and marked as a stop from the sending tab would mark it.
    await lastReply(watcher).getByText("Stopped").waitFor({ timeout: 30_000 });
    await expect.poll(() => watcher.getByRole("button", { name: "Stop", exact: true }).count()).toBe(0);
    // The reply that waited in the late tab has the engine now, and streams there.
    await expect.poll(() => busy.count()).toBe(0);
    await growsPast(late, 0);
    await late.getByRole("button", { name: "Stop", exact: true }).click();
    await lastReply(late).getByText("Stopped").waitFor({ timeout: 30_000 });
    const stoppedText = await lastReply(watcher).textContent();
    await watcher.reload();
    // The newest chat opens after a reload: the late tab's; the stopped reply is in the other.
    await watcher.getByRole("button", { name: /^Talk forever\. / }).click();
    await watcher.getByRole("log", { name: "Messages" }).getByText("Talk forever.").waitFor();
    await expect.poll(() => lastReply(watcher).textContent()).toBe(stoppedText);
    expect(stoppedText).toContain("Stopped");
  });

  it("keeps both tabs' settings when each changes a different one, and shows each tab the other's", async () => {
    const first = await openTab();
    const second = await openTab();
    const title = async (page: Page) => page.getByRole("heading", { level: 2 }).first().textContent();
    expect(await title(second)).toBe(await title(first));
    const form = (page: Page) => page.getByRole("form", { name: "Chat settings" });
    const saved = (page: Page) =>
      expect
        .poll(() =>
          form(page)
            .getByRole("status", { name: "Settings saved" })
            .textContent()
            .then((text) => text?.trim()),
        )
        .toBe("Settings saved for this conversation.");
    // Both panels open on the settings as they were.
    for (const page of [first, second]) await page.getByRole("button", { name: "Show chat settings" }).click();
    const prompt = (page: Page) => form(page).getByRole("textbox", { name: "System prompt" });
    const maxTokens = (page: Page) => form(page).getByRole("spinbutton", { name: /^Max tokens/ });
    const maxBefore = await maxTokens(second).inputValue();

    await prompt(first).fill("Answer as a pirate.");
    await saved(first);
    // The other tab's open panel shows it, without a reload.
    await expect.poll(() => prompt(second).inputValue()).toBe("Answer as a pirate.");

    // A change there saves only what it changed: the first tab's prompt stays.
    await maxTokens(second).fill("77");
    await saved(second);
    await expect.poll(() => maxTokens(first).inputValue()).toBe("77");
    expect(maxBefore).not.toBe("77");

    for (const page of [first, second]) {
      await page.reload();
      await page.getByRole("button", { name: "Show chat settings" }).click();
      await expect.poll(() => prompt(page).inputValue()).toBe("Answer as a pirate.");
      expect(await maxTokens(page).inputValue()).toBe("77");
    }
  });

  it("shows a conversation renamed or deleted in one tab in the other tab, without a reload or a lost message", async () => {
    const first = await openTab();
    const second = await openTab();
    const sidebar = (page: Page) => page.getByRole("navigation", { name: "Conversations" });
    // The newest conversation, open in both.
    const title = (await first.getByRole("heading", { level: 2 }).first().textContent()) ?? "";
    expect(await second.getByRole("heading", { level: 2 }).first().textContent()).toBe(title);
    await sidebar(first)
      .getByRole("button", { name: `Rename “${title}”` })
      .click();
    await sidebar(first).getByRole("textbox", { name: "New name" }).fill("Endless talk");
    await sidebar(first).getByRole("button", { name: "Save name" }).click();
    await sidebar(second)
      .getByRole("button", { name: /^Endless talk/ })
      .waitFor();
    // The other tab's header, showing that conversation, follows.
    await expect.poll(() => second.getByRole("heading", { level: 2 }).first().textContent()).toBe("Endless talk");

    // The other tab, still showing it, has a message half written when it goes.
    await second.getByRole("textbox", { name: "Message" }).fill("Half a thought about walruses");
    await sidebar(first).getByRole("button", { name: "Delete “Endless talk”" }).click();
    await expect
      .poll(() =>
        sidebar(second)
          .getByRole("button", { name: /^Endless talk/ })
          .count(),
      )
      .toBe(0);
    // It leaves the deleted conversation for an empty one, says why, and keeps what was being written.
    await expect
      .poll(() => second.getByRole("alert").textContent())
      .toContain("The conversation open here was deleted in another window; an empty one is open now.");
    expect(await second.getByRole("heading", { level: 2 }).first().textContent()).not.toBe("Endless talk");
    expect(await second.getByRole("article").count()).toBe(0);
    expect(await second.getByRole("textbox", { name: "Message" }).inputValue()).toBe("Half a thought about walruses");
    // The tab that deleted it offers Undo, and does not tell itself that another window did.
    await first.getByText("Deleted “Endless talk”.").waitFor();
    expect(await first.getByText("deleted in another window").count()).toBe(0);
  });
});
