import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CHAT_SETTINGS } from "../../electron/contract/chat-settings.js";
import type { ChatMessage } from "../../electron/contract/types.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { tempDir } from "../support/paths.js";

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await fs.rm(folder, { recursive: true, force: true });
});

function message(id: string, text: string, role: ChatMessage["role"] = "user"): ChatMessage {
  return { id, role, text, createdAt: new Date().toISOString(), status: "complete", modelId: null, stats: null, error: null };
}

describe("chat store", () => {
  it("keeps every message across a reopen, newest chat first", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const store = new ChatStore(folder);
    await store.load();
    const first = await store.create();
    await store.saveMessage(first.id, message("m1", "Hello there"));
    const second = await store.create();
    await store.saveMessage(second.id, message("m2", "你好"));
    await store.saveMessage(second.id, message("m3", "Hi!", "assistant"));

    const reopened = new ChatStore(folder);
    await reopened.load();
    expect(reopened.list().map((chat) => chat.id)).toEqual([second.id, first.id]);
    expect(reopened.get(second.id).messages.map((m) => m.text)).toEqual(["你好", "Hi!"]);
    expect(reopened.get(first.id).title).toBe("Hello there");
  });

  it("skips a torn last line with a warning and keeps the rest, and appends after it on a fresh line", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const store = new ChatStore(folder);
    await store.load();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("m1", "kept"));
    const file = path.join(folder, `${chat.id}.jsonl`);
    await fs.appendFile(file, '{"type":"message","message":{"id":"m2","ro');

    const warnings: string[] = [];
    const reopened = new ChatStore(folder, (warning) => warnings.push(warning));
    await reopened.load();
    expect(reopened.get(chat.id).messages.map((m) => m.text)).toEqual(["kept"]);
    expect(warnings.join()).toMatch(/skipped 1 unreadable line/);

    await reopened.saveMessage(chat.id, message("m3", "after the tear"));
    const again = new ChatStore(folder, () => undefined);
    await again.load();
    expect(again.get(chat.id).messages.map((m) => m.text)).toEqual(["kept", "after the tear"]);
  });

  it("reports a chats folder it cannot write to as storage_failed and keeps memory unchanged", async () => {
    // A file where the folder should be fails for every user, root included (unlike chmod).
    const folder = await tempDir("chats");
    folders.push(folder);
    const store = new ChatStore(folder);
    await store.load();
    const chat = await store.create();
    await fs.rm(folder, { recursive: true });
    await fs.writeFile(folder, "not a folder");
    await expect(store.saveMessage(chat.id, message("m1", "lost?"))).rejects.toMatchObject({ code: "storage_failed" });
    expect(store.get(chat.id).messages).toHaveLength(0);
  });

  it("changes only the settings given: two changes at once, each to its own field, are both kept, on disk too", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const store = new ChatStore(folder);
    await store.load();
    const chat = await store.create();
    // As two tabs save: neither waits for the other, and neither sends the other's field.
    const [afterPrompt, afterSampling] = await Promise.all([
      store.updateSettings(chat.id, { systemPrompt: "Answer as a pirate." }),
      store.updateSettings(chat.id, { overrides: { maxTokens: 77 }, preset: "precise" }),
    ]);
    expect(afterPrompt.settings.systemPrompt).toBe("Answer as a pirate.");
    expect(afterSampling.settings).toEqual({
      ...DEFAULT_CHAT_SETTINGS,
      systemPrompt: "Answer as a pirate.",
      overrides: { maxTokens: 77 },
      preset: "precise",
    });

    const reopened = new ChatStore(folder);
    await reopened.load();
    expect(reopened.get(chat.id).settings).toEqual(afterSampling.settings);
  });

  it("says not_found for an unknown chat", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const store = new ChatStore(folder);
    await store.load();
    expect(() => store.get("nope")).toThrow(/does not exist/);
  });
});
