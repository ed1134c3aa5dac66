// The conversation history as a person searches and prunes it: a search snippet holds the
// matched words whole with context on both sides (Latin and CJK, near the start and the end)
// and names the version that holds the match; deleting a message removes it with what
// followed it, is on disk (compacted away at once) and survives a reopen.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../electron/contract/types.js";
import { findInText, queryPattern, SNIPPET_CONTEXT_COLUMNS, snippetText } from "../../electron/core/chats/chat-search.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { tempDir } from "../support/paths.js";

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await fs.rm(folder, { recursive: true, force: true });
});

async function openStore(folder?: string): Promise<{ store: ChatStore; folder: string }> {
  const dir = folder ?? (await tempDir("chats"));
  if (!folder) folders.push(dir);
  const store = new ChatStore(dir, () => undefined);
  await store.load();
  return { store, folder: dir };
}

function message(id: string, text: string, role: ChatMessage["role"], parentId: string | null): ChatMessage {
  return { id, role, text, createdAt: new Date().toISOString(), status: "complete", modelId: null, stats: null, error: null, parentId };
}

function find(text: string, query: string) {
  const pattern = queryPattern(query);
  if (!pattern) throw new Error("empty query");
  return findInText(text, pattern, "m1");
}

const LONG =
  "The expedition left the harbour at dawn. After many weeks at sea the crew finally sighted the colony of emperor penguins " +
  "huddled on the ice shelf, and the photographer spent the whole afternoon taking pictures until the light faded.";

describe("search snippets", () => {
  it("keeps the matched word whole with words of context on both sides, in the middle of a long text", () => {
    const match = find(LONG, "EMPEROR");
    expect(match).not.toBeNull();
    if (!match) return;
    expect(match.text).toBe("emperor");
    expect(match.before.startsWith("…")).toBe(true);
    expect(match.after.endsWith("…")).toBe(true);
    // Context on both sides, each cut at a word's edge (no half words).
    expect(match.before).toMatch(/…\S.* $/);
    expect(match.after).toMatch(/^ \S.*\S…$/);
    const beforeWords = match.before.slice(1).trim().split(" ");
    const afterWords = match.after.slice(0, -1).trim().split(" ");
    for (const word of [...beforeWords, ...afterWords]) expect(LONG).toMatch(new RegExp(`(^|\\s)${word}(\\s|$|[.,])`));
    expect(match.before.length).toBeGreaterThan(10);
    expect(match.after.length).toBeGreaterThan(10);
    expect(snippetText(match)).toContain("colony of emperor penguins");
    expect(snippetText(match).length).toBeLessThanOrEqual(2 * SNIPPET_CONTEXT_COLUMNS + "emperor".length + 2);
  });

  it("near the start and the end: no ellipsis where nothing was left out, context on the other side", () => {
    const start = find(LONG, "expedition");
    expect(start).toMatchObject({ before: "The ", text: "expedition" });
    expect(start?.after).toMatch(/^ left the harbour.*…$/);
    const end = find(LONG, "faded");
    expect(end).toMatchObject({ text: "faded", after: "." });
    expect(end?.before).toMatch(/^….* until the light $/);
  });

  it("in Chinese and Japanese text (no spaces) keeps characters of context on both sides", () => {
    const chinese =
      "在上周的会议上，我们今天讨论了模型的量化方法，包括四位和八位整数，以及它们对困惑度的影响。最后大家决定在下周继续测试更多的变体，并记录每一次的结果。";
    const match = find(chinese, "困惑度");
    expect(match?.text).toBe("困惑度");
    expect(match?.before.length).toBeGreaterThan(8);
    expect(match?.after.length).toBeGreaterThan(8);
    expect(chinese).toContain(`${(match?.before ?? "").replace(/^…/, "")}困惑度${(match?.after ?? "").replace(/…$/, "")}`);
    // Cut on both sides, at most as wide as Latin context (a CJK character is drawn two columns wide).
    expect(match?.before.startsWith("…")).toBe(true);
    expect(match?.after.endsWith("…")).toBe(true);
    expect((match?.before.length ?? 0) - 1).toBeLessThanOrEqual(SNIPPET_CONTEXT_COLUMNS / 2);
    const first = find("量化很有用。", "量化");
    expect(first).toMatchObject({ before: "", text: "量化", after: "很有用。" });
  });

  it("never splits a character outside the basic plane, and finds a query across line breaks", () => {
    const emoji = `${"🐧".repeat(40)} penguin ${"🐧".repeat(40)}`;
    const match = find(emoji, "penguin");
    expect(match?.text).toBe("penguin");
    // Every character is whole: no lone surrogate at either cut.
    expect(snippetText(match ?? { messageId: "", before: "", text: "", after: "" })).not.toMatch(/[\uD800-\uDFFF](?![\uDC00-\uDFFF])/u);
    // Nor an emoji sequence (a family is one character to a reader).
    const family = "👩‍👩‍👧";
    const families = find(`${family.repeat(30)} penguin ${family.repeat(30)}`, "penguin");
    expect(families?.before.replace(/^…/, "")).toMatch(new RegExp(`^(${family})+ $`, "u"));
    expect(families?.after.replace(/…$/, "")).toMatch(new RegExp(`^ (${family})+$`, "u"));
    expect(find("the emperor\npenguin", "emperor penguin")?.text).toBe("emperor penguin");
    expect(find("nothing here", "penguin")).toBeNull();
    expect(queryPattern("   ")).toBeNull();
    // A query is text, not a pattern.
    expect(find("costs $5 (about)", "$5 (")?.text).toBe("$5 (");
  });
});

describe("search across versions", () => {
  it("names the older version that holds the match, and prefers the version on show", async () => {
    const { store } = await openStore();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("u1", "Tell me about birds", "user", null));
    await store.saveMessage(chat.id, message("a1", `${LONG} The colony was large.`, "assistant", "u1"));
    await store.saveMessage(chat.id, message("a2", "Birds fly south in winter.", "assistant", "u1"));
    expect(store.get(chat.id).messages.at(-1)?.id).toBe("a2");

    const [hit] = store.search("emperor");
    expect(hit?.match).toMatchObject({ messageId: "a1", text: "emperor" });
    expect(hit?.snippet).toBe(snippetText(hit?.match ?? { messageId: "", before: "", text: "", after: "" }));
    // Both versions hold "colony"? Only a1; "birds" is in u1 (on show) and a2: the branch on show comes first.
    expect(store.search("birds")[0]?.match?.messageId).toBe("u1");
    expect(store.search("fly south")[0]?.match?.messageId).toBe("a2");
    expect(store.search("")[0]).toMatchObject({ snippet: null, match: null });
  });
});

describe("deleting a message", () => {
  async function storyChat() {
    const opened = await openStore();
    const { store } = opened;
    const chat = await store.create();
    await store.saveMessage(chat.id, message("u1", "Tell me a story", "user", null));
    await store.saveMessage(chat.id, message("a1", "Once upon a time", "assistant", "u1"));
    await store.saveMessage(chat.id, message("a2", "Long ago", "assistant", "u1"));
    await store.saveMessage(chat.id, message("u2", "Go on", "user", "a2"));
    await store.saveMessage(chat.id, message("a3", "There was a cat", "assistant", "u2"));
    return { ...opened, chatId: chat.id };
  }

  it("deletes a user message with every version of its reply and the turns after it; the rest stays, across a reopen", async () => {
    const { store, folder, chatId } = await storyChat();
    const { chat, deletedIds } = await store.deleteMessage(chatId, "u2");
    expect(deletedIds.sort()).toEqual(["a3", "u2"]);
    expect(chat.messages.map((m) => m.id)).toEqual(["u1", "a2"]);

    const { store: reopened } = await openStore(folder);
    expect(reopened.get(chatId).messages.map((m) => m.id)).toEqual(["u1", "a2"]);
    expect(reopened.allMessages(chatId).map((m) => m.id)).toEqual(["u1", "a1", "a2"]);
    // Compacted at once: the deleted words are not in the file any more.
    const log = await fs.readFile(path.join(folder, `${chatId}.jsonl`), "utf8");
    expect(log).not.toContain("There was a cat");
    expect(log).not.toContain("Go on");
    expect(log).not.toContain('"deleted"');
  });

  it("deleting a reply version shows the other version in its place; deleting the first message empties the chat", async () => {
    const { store, folder, chatId } = await storyChat();
    const { chat } = await store.deleteMessage(chatId, "a2");
    // a2's turns went with it; the older reply is shown in its place.
    expect(chat.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(chat.versions).toEqual({});
    const { store: reopened } = await openStore(folder);
    expect(reopened.get(chatId).messages.map((m) => m.id)).toEqual(["u1", "a1"]);

    const { chat: last } = await reopened.deleteMessage(chatId, "a1");
    expect(last.messages.map((m) => m.id)).toEqual(["u1"]);
    const { chat: empty } = await reopened.deleteMessage(chatId, "u1");
    expect(empty.messages).toEqual([]);
    const { store: again } = await openStore(folder);
    expect(again.get(chatId).messages).toEqual([]);
    expect(again.list().find((summary) => summary.id === chatId)?.messageCount).toBe(0);
    await expect(again.deleteMessage(chatId, "u1")).rejects.toMatchObject({ code: "not_found" });
  });

  it("is replayed from the log when a kill came before the compaction", async () => {
    const { folder, chatId } = await storyChat();
    // What the file holds after the append and before the compaction: the event itself.
    await fs.appendFile(
      path.join(folder, `${chatId}.jsonl`),
      `${JSON.stringify({ type: "deleted", messageIds: ["a1"], at: new Date().toISOString() })}\n`,
    );
    const { store: reopened } = await openStore(folder);
    expect(reopened.allMessages(chatId).map((m) => m.id)).toEqual(["u1", "a2", "u2", "a3"]);
    expect(reopened.get(chatId).messages.map((m) => m.id)).toEqual(["u1", "a2", "u2", "a3"]);
  });
});
