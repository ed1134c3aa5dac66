// End to end, as a person digs through and tidies their conversations: a search finds words
// in an older version of a message and shows them with context, highlighted, and opening the
// hit switches to that version and scrolls to it; one message is deleted after a confirm and
// stays deleted after a reload; a conversation exported as JSON is imported again as a new,
// identical conversation, and bad files are refused with words in English and in Chinese.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const AT = "2026-03-01T10:00:00.000Z";
const LATER = "2026-03-02T09:30:00.000Z";
const WALRUS =
  "Tell me everything you know about the animals of the Arctic coast, especially the walrus with its long ivory tusks and whiskers, and how it survives the winter.";
const LONG_REPLY = (topic: string) =>
  `${topic} ` + "Walruses haul out on the sea ice in large groups to rest between dives for clams on the sea floor. ".repeat(6);

/** A conversation as its log on disk: the first message in two versions, the older one followed by five turns. */
function arcticLog(): string {
  const message = (id: string, role: "user" | "assistant", text: string, parentId: string | null) => ({
    type: "message",
    message: { id, role, text, createdAt: AT, status: "complete", modelId: null, stats: null, error: null, parentId },
    at: AT,
  });
  const events: unknown[] = [
    { type: "created", v: 2, id: "arctic", title: "New chat", at: AT },
    { type: "titled", title: "Arctic notes", at: AT },
    message("u1", "user", WALRUS, null),
    message("a1", "assistant", LONG_REPLY("The walrus is a large flippered marine mammal."), "u1"),
  ];
  let parent = "a1";
  for (let turn = 2; turn <= 5; turn += 1) {
    events.push(message(`u${turn}`, "user", `Question number ${turn}: and then what happened on the ice?`, parent));
    events.push(message(`a${turn}`, "assistant", LONG_REPLY(`Answer number ${turn}.`), `u${turn}`));
    parent = `a${turn}`;
  }
  // The newer version of the first message, shown when the conversation opens.
  events.push(message("u1b", "user", "Tell me about penguins.", null));
  events.push({ ...message("a1b", "assistant", "Penguins are flightless birds of the southern oceans.", "u1b"), at: LATER });
  return events.map((event) => JSON.stringify(event)).join("\n") + "\n";
}

function kitchenLog(): string {
  const at = "2026-03-05T08:00:00.000Z";
  return (
    [
      { type: "created", v: 2, id: "kitchen", title: "New chat", at },
      { type: "titled", title: "Kitchen", at },
      {
        type: "message",
        message: {
          id: "k1",
          role: "user",
          text: "在上周的会议上，我们今天讨论了模型的量化方法，包括四位和八位整数，以及它们对困惑度的影响。最后大家决定在下周继续测试更多的变体。",
          createdAt: at,
          status: "complete",
          modelId: null,
          stats: null,
          error: null,
          parentId: null,
        },
        at,
      },
    ]
      .map((event) => JSON.stringify(event))
      .join("\n") + "\n"
  );
}

const e2e = servedInChromium("e2e-history", {
  seedHome: async (home) => {
    await fs.mkdir(path.join(home, "chats"), { recursive: true });
    await fs.writeFile(path.join(home, "chats", "arctic.jsonl"), arcticLog());
    await fs.writeFile(path.join(home, "chats", "kitchen.jsonl"), kitchenLog());
  },
  viewport: { width: 1024, height: 768 },
});

const sidebar = () => e2e.page.getByRole("navigation", { name: /^(Conversations|对话)$/ });
const log = () => e2e.page.getByRole("log");
const userMessages = () => log().getByRole("article", { name: "You" });
const replies = () => log().getByRole("article", { name: "Assistant" });
const alertText = () =>
  e2e.page
    .getByRole("alert")
    .first()
    .textContent()
    .then((text) => text?.trim() ?? "");

/** True when the message's top lies within the visible part of the message list. */
async function inView(message: ReturnType<Page["locator"]>): Promise<boolean> {
  const [box, view] = await Promise.all([message.boundingBox(), e2e.page.locator(".viewport").boundingBox()]);
  return box !== null && view !== null && box.y >= view.y - 1 && box.y < view.y + view.height - 20;
}

describe("a conversation's history in the browser", () => {
  it("finds words in an older version, shows them with context and highlighted, and opens that version scrolled into view", async () => {
    await e2e.page.goto(e2e.app.url);
    // The newest conversation opens first.
    await e2e.page.getByRole("heading", { name: "Kitchen" }).waitFor();

    await sidebar().getByRole("searchbox", { name: "Search conversations" }).fill("IVORY");
    const hit = sidebar().getByRole("button", { name: /^Arctic notes/ });
    await hit.waitFor();
    await expect.poll(() => sidebar().getByRole("listitem").count()).toBe(1);
    // The word whole and highlighted, with words of context on both sides, none cut in half.
    expect(await hit.locator("mark").textContent()).toBe("ivory");
    const snippet = (await hit.locator(".snippet").textContent()) ?? "";
    const [before = "", after = ""] = snippet.split("ivory");
    expect(before).toMatch(/^…\S.*walrus with its long $/);
    expect(after).toMatch(/^ tusks and whiskers,.*\S…$/);
    expect(WALRUS).toContain(before.replace(/^…/, "") + "ivory" + after.replace(/…$/, ""));
    // Nothing of it hidden by the sidebar's width: the mark is inside the snippet's box.
    const [markBox, snippetBox] = await Promise.all([hit.locator("mark").boundingBox(), hit.locator(".snippet").boundingBox()]);
    expect(markBox).not.toBeNull();
    expect(snippetBox).not.toBeNull();
    if (markBox && snippetBox) {
      expect(markBox.x + markBox.width).toBeLessThanOrEqual(snippetBox.x + snippetBox.width + 1);
      expect(markBox.y + markBox.height).toBeLessThanOrEqual(snippetBox.y + snippetBox.height + 1);
    }

    await hit.click();
    await e2e.page.getByRole("heading", { name: "Arctic notes" }).waitFor();
    // The version holding the match is the one on show, with the turns that followed it.
    const first = userMessages().first();
    await first.getByText(WALRUS).waitFor();
    await first.getByText("1 / 2").waitFor();
    expect(await first.getAttribute("aria-current")).toBe("true");
    await expect.poll(() => replies().count()).toBe(5);
    // Opened at the bottom, the list scrolls up to it.
    await expect.poll(() => inView(first)).toBe(true);
    // The words are highlighted in the message itself.
    await expect
      .poll(() => e2e.page.evaluate<string[]>("[...(CSS.highlights.get('quanta-search-match') ?? [])].map((range) => range.toString())"))
      .toEqual(["ivory"]);

    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "chat-history-search.png") });

    // Chinese text: characters of context on both sides.
    await sidebar().getByRole("searchbox", { name: "Search conversations" }).fill("困惑度");
    const chinese = sidebar().getByRole("button", { name: /^Kitchen/ });
    await chinese.waitFor();
    expect(await chinese.locator("mark").textContent()).toBe("困惑度");
    expect(await chinese.locator(".snippet").textContent()).toMatch(/^….{8,}困惑度.{8,}…$/u);
    await sidebar().getByRole("searchbox", { name: "Search conversations" }).fill("");
  });

  it("deletes a reply, then a message with what follows it, after a confirm; a reload shows them gone", async () => {
    // The last reply: asked first, then kept, then deleted.
    await replies().last().getByRole("button", { name: "Delete message" }).click();
    const confirm = log().getByRole("alertdialog", { name: "Delete message" });
    await confirm.getByText("Delete this reply and the conversation after it? Other versions of it stay.").waitFor();
    await confirm.getByRole("button", { name: "Keep" }).click();
    await expect.poll(() => confirm.count()).toBe(0);
    expect(await replies().count()).toBe(5);

    await replies().last().getByRole("button", { name: "Delete message" }).click();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => replies().count()).toBe(4);
    expect(await userMessages().count()).toBe(5);

    // A user message goes with its reply and what followed.
    await userMessages().nth(3).getByRole("button", { name: "Delete message" }).click();
    await confirm.getByText(/^Delete this message, every version of its reply and the conversation after it\?/).waitFor();
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => userMessages().count()).toBe(3);
    await expect.poll(() => replies().count()).toBe(3);
    await expect.poll(() => log().getByText("Question number 4:").count()).toBe(0);

    await e2e.page.reload();
    await e2e.page.getByRole("heading", { name: "Arctic notes" }).waitFor();
    await userMessages().first().getByText(WALRUS).waitFor();
    await expect.poll(() => userMessages().count()).toBe(3);
    expect(await replies().count()).toBe(3);
    expect(await log().getByText("Question number 4:").count()).toBe(0);
    // Gone from the file too, not only hidden.
    const file = await fs.readFile(path.join(e2e.app.home, "chats", "arctic.jsonl"), "utf8");
    expect(file).not.toContain("Question number 4:");
    expect(file).not.toContain("Answer number 5.");
  });

  it("imports its own JSON export as a new conversation with the same messages, versions and dates", async () => {
    const [download] = await Promise.all([
      e2e.page.waitForEvent("download"),
      e2e.page.getByRole("button", { name: "Export as JSON" }).click(),
    ]);
    const exportedFile = await download.path();
    const exported = JSON.parse(await fs.readFile(exportedFile, "utf8")) as { chat: { id: string; createdAt: string; updatedAt: string } };
    expect(exported.chat.createdAt).toBe(AT);

    await sidebar().locator('input[type="file"]').setInputFiles(exportedFile);
    await sidebar().getByRole("status").getByText("Imported “Arctic notes” with 8 messages.").waitFor();
    await expect
      .poll(() =>
        sidebar()
          .getByRole("button", { name: /^Arctic notes/ })
          .count(),
      )
      .toBe(2);
    await userMessages().first().getByText(WALRUS).waitFor();
    await userMessages().first().getByText("1 / 2").waitFor();
    expect(await replies().count()).toBe(3);

    // Exported again, it is the same file but for its id and the export's date.
    const [again] = await Promise.all([
      e2e.page.waitForEvent("download"),
      e2e.page.getByRole("button", { name: "Export as JSON" }).click(),
    ]);
    const reexported = JSON.parse(await fs.readFile(await again.path(), "utf8")) as typeof exported & { exportedAt: string };
    expect(reexported.chat.id).not.toBe(exported.chat.id);
    expect({ ...reexported, exportedAt: "", chat: { ...reexported.chat, id: "" } }).toEqual({
      ...exported,
      exportedAt: "",
      chat: { ...exported.chat, id: "" },
    });
  });

  it("refuses bad files with a clear reason in English and in Chinese, and creates nothing", async () => {
    const input = sidebar().locator('input[type="file"]');
    const count = await sidebar().getByRole("listitem").count();
    const file = (name: string, text: string | Buffer) => ({
      name,
      mimeType: "application/json",
      buffer: typeof text === "string" ? Buffer.from(text) : text,
    });
    const english: [ReturnType<typeof file>, string | RegExp][] = [
      [
        file("notes.json", "these are my notes"),
        "This file is not JSON, so it is not a conversation exported by Quanta. Nothing was imported.",
      ],
      [
        file("other.json", '{"messages": []}'),
        "This file is not a conversation exported by Quanta: “format” is not as expected. Nothing was imported.",
      ],
      [
        file("newer.json", JSON.stringify({ format: "quanta-chat", version: 9, chat: {} })),
        "This conversation was exported in format version 9; this Quanta reads version 1. Nothing was imported.",
      ],
      // Sizes in the app's one unit convention, never raw bytes.
      [
        file("huge.json", Buffer.alloc(600 * 1024, 0x20)),
        /^The file is [\d.]+ [KM]i?B; a conversation to import is at most [\d.]+ [KM]i?B\. Nothing was imported\.$/,
      ],
    ];
    for (const [bad, words] of english) {
      await input.setInputFiles(bad);
      if (typeof words === "string") await expect.poll(alertText).toBe(words);
      else await expect.poll(alertText).toMatch(words);
      await e2e.page.getByRole("alert").getByRole("button", { name: "Dismiss" }).click();
    }

    await e2e.page.getByRole("combobox", { name: "Language" }).selectOption({ label: "简体中文" });
    await e2e.page.getByRole("navigation", { name: "对话" }).waitFor();
    await input.setInputFiles(file("notes.json", "these are my notes"));
    await expect.poll(alertText).toBe("此文件不是 JSON，因此不是 Quanta 导出的对话。未导入任何内容。");
    await input.setInputFiles(file("newer.json", JSON.stringify({ format: "quanta-chat", version: 9 })));
    await expect.poll(alertText).toBe("此对话以格式版本 9 导出；此版本的 Quanta 读取版本 1。未导入任何内容。");
    // No English sentence from the core in the Chinese page.
    expect(await alertText()).not.toMatch(/Nothing was imported|not a conversation/);
    await e2e.page.getByRole("combobox", { name: "语言" }).selectOption({ label: "English" });

    expect(await sidebar().getByRole("listitem").count()).toBe(count);
    const files = (await fs.readdir(path.join(e2e.app.home, "chats"))).filter((name) => name.endsWith(".jsonl"));
    expect(files).toHaveLength(3);
  });
});
