// A conversation's log stays proportional to the conversation: a long reply saved again and
// again (checkpoints) is compacted away, the state read back is the same, and a log a newer
// Quanta wrote is never rewritten. An empty or headerless log is no conversation: set aside.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../electron/contract/types.js";
import { readChatLog } from "../../electron/core/chats/chat-log.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { tempDir } from "../support/paths.js";

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await fs.rm(folder, { recursive: true, force: true });
});

async function folder(): Promise<string> {
  const made = await tempDir("chats");
  folders.push(made);
  return made;
}

function message(
  id: string,
  text: string,
  parentId: string | null,
  role: ChatMessage["role"] = "user",
  status: ChatMessage["status"] = "complete",
): ChatMessage {
  return { id, role, text, createdAt: new Date().toISOString(), status, modelId: null, stats: null, error: null, parentId };
}

/** A reply of `chars` characters saved as it grows, every `step` characters, as the checkpoints do. */
async function longReply(store: ChatStore, chatId: string, id: string, chars: number, step: number): Promise<number> {
  const parentId = store.leaf(chatId);
  let saves = 0;
  for (let length = step; length <= chars; length += step) {
    await store.saveMessage(chatId, message(id, "y".repeat(length), parentId, "assistant", length === chars ? "complete" : "streaming"));
    saves += 1;
  }
  return saves;
}

describe("compacting a conversation's log", () => {
  it("keeps the log within a bound while a long reply is saved over and over", async () => {
    const chats = await folder();
    const store = new ChatStore(chats, () => undefined, { compactAfterBytes: 64 * 1024 });
    await store.load();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("q", "Tell me a long story", null));
    // 200 checkpoints of a reply growing to 100,000 characters: 10 MB appended in all.
    const saves = await longReply(store, chat.id, "a", 100_000, 500);
    expect(saves).toBe(200);
    const file = path.join(chats, `${chat.id}.jsonl`);
    const { size } = await fs.stat(file);
    // At most the live lines twice over plus the bound (and one line's slack), never the 10 MB.
    expect(size).toBeLessThan(2 * 100_000 + 64 * 1024 + 110_000);
    const reopened = new ChatStore(chats, () => undefined);
    await reopened.load();
    const back = reopened.get(chat.id);
    expect(back.messages.map((m) => [m.id, m.text.length, m.status])).toEqual([
      ["q", 20, "complete"],
      ["a", 100_000, "complete"],
    ]);
    expect(back.title).toBe("Tell me a long story");
    expect((await readChatLog(file)).skipped).toBe(0);
  });

  it("reads back the same conversation after compacting: versions, the branch on show, settings, title", async () => {
    const chats = await folder();
    const store = new ChatStore(chats, () => undefined, { compactAfterBytes: 0 });
    await store.load();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("q1", "first question", null));
    await longReply(store, chat.id, "a1", 2000, 100);
    await store.saveMessage(chat.id, message("q2", "second question", "a1"));
    await longReply(store, chat.id, "a2", 2000, 100);
    // Another version of the second question, with a reply of its own, then back to the first version.
    await store.saveMessage(chat.id, message("q2b", "second question, again", "a1"));
    await longReply(store, chat.id, "a2b", 3000, 100);
    await store.select(chat.id, "q2");
    await store.rename(chat.id, "Named by hand");
    await store.updateSettings(chat.id, { ...store.settings(chat.id), systemPrompt: "Be brief." });
    await longReply(store, chat.id, "a3", 1500, 100);
    const before = store.get(chat.id);

    const file = path.join(chats, `${chat.id}.jsonl`);
    const log = await readChatLog(file);
    // Compacted: one line per live event, not one per save.
    expect(log.events.length).toBeLessThan(15);
    const reopened = new ChatStore(chats, () => undefined);
    await reopened.load();
    const after = reopened.get(chat.id);
    expect(after.messages).toEqual(before.messages);
    expect(after.versions).toEqual(before.versions);
    expect(after.settings.systemPrompt).toBe("Be brief.");
    expect(after.title).toBe("Named by hand");
    expect(after.createdAt).toBe(before.createdAt);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(
      reopened
        .allMessages(chat.id)
        .map((m) => m.id)
        .sort(),
    ).toEqual(["a1", "a2", "a2b", "a3", "q1", "q2", "q2b"]);
  });

  it("never rewrites a log that holds lines a newer Quanta wrote", async () => {
    const chats = await folder();
    const store = new ChatStore(chats, () => undefined);
    await store.load();
    const chat = await store.create();
    const file = path.join(chats, `${chat.id}.jsonl`);
    const future = '{"type":"reaction","messageId":"q","emoji":"👍","at":"2030-01-01T00:00:00.000Z"}\n';
    await fs.appendFile(file, future);
    const reopened = new ChatStore(chats, () => undefined, { compactAfterBytes: 0 });
    await reopened.load();
    await reopened.saveMessage(chat.id, message("q", "hello", null));
    await longReply(reopened, chat.id, "a", 5000, 100);
    expect(await fs.readFile(file, "utf8")).toContain(future);
  });

  it("leaves no temporary file behind and reopens whole when a compaction was interrupted", async () => {
    const chats = await folder();
    const store = new ChatStore(chats, () => undefined);
    await store.load();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("q", "kept", null));
    // What a kill mid-compaction leaves: the log whole, and a half-written copy beside it.
    await fs.writeFile(path.join(chats, `${chat.id}.jsonl.0a1b2c3d4e5f.compacting`), '{"type":"created","v":2,"id":"x');
    const reopened = new ChatStore(chats, () => undefined);
    await reopened.load();
    expect(reopened.get(chat.id).messages.map((m) => m.text)).toEqual(["kept"]);
    expect(await fs.readdir(chats)).toEqual([`${chat.id}.jsonl`]);
  });
});

describe("a log with nothing readable in it", () => {
  it("is set aside with a warning, not shown as an empty conversation dated 1970", async () => {
    const chats = await folder();
    await fs.writeFile(path.join(chats, "0123456789abcdef0123456789abcdef.jsonl"), "");
    await fs.writeFile(path.join(chats, "fedcba9876543210fedcba9876543210.jsonl"), '{"type":"created","v":2,"id":"fe');
    const warnings: string[] = [];
    const store = new ChatStore(chats, (warning) => warnings.push(warning));
    await store.load();
    expect(store.list()).toEqual([]);
    expect(warnings.join("\n")).toMatch(/0123456789abcdef0123456789abcdef holds no readable line \(0 bytes\); it was set aside/);
    expect(warnings.join("\n")).toMatch(/fedcba9876543210fedcba9876543210 holds no readable line/);
    // Set aside, not erased.
    expect((await fs.readdir(path.join(chats, "unreadable"))).length).toBe(2);
    expect((await fs.readdir(chats)).filter((name) => name.endsWith(".jsonl"))).toEqual([]);
  });

  it("still reads a log without a header that holds messages (format 1)", async () => {
    const chats = await folder();
    const line = { type: "message", at: "2025-01-01T00:00:00.000Z", message: message("m", "old format", null) };
    delete (line.message as Partial<ChatMessage>).parentId;
    await fs.writeFile(path.join(chats, "00000000000000000000000000000001.jsonl"), `${JSON.stringify(line)}\n`);
    const store = new ChatStore(chats, () => undefined);
    await store.load();
    expect(store.list().map((chat) => chat.updatedAt)).toEqual(["2025-01-01T00:00:00.000Z"]);
  });
});
