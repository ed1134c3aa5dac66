// The conversation store beyond appending: versions (edits and regenerated replies) as a
// tree, the choice of version surviving a reopen, the format-1 migration, unknown fields,
// rename, delete and restore, search, and per-conversation settings.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KNOWN_CHAT_TEMPLATES, resolveSampling, SAMPLING_PRESETS } from "../../electron/contract/chat-settings.js";
import type { ChatMessage } from "../../electron/contract/types.js";
import { CHAT_FORMAT_VERSION } from "../../electron/core/chats/chat-log.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { checkExternalUrl, openExternalLink } from "../../electron/core/chats/external-link.js";
import { tempDir } from "../support/paths.js";

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await fs.rm(folder, { recursive: true, force: true });
});

async function openStore(folder?: string): Promise<{ store: ChatStore; folder: string; warnings: string[] }> {
  const dir = folder ?? (await tempDir("chats"));
  if (!folder) folders.push(dir);
  const warnings: string[] = [];
  const store = new ChatStore(dir, (warning) => warnings.push(warning));
  await store.load();
  return { store, folder: dir, warnings };
}

function message(id: string, text: string, role: ChatMessage["role"], parentId: string | null): ChatMessage {
  return { id, role, text, createdAt: new Date().toISOString(), status: "complete", modelId: null, stats: null, error: null, parentId };
}

describe("versions of messages", () => {
  it("keeps an edited message and a regenerated reply as versions, and remembers which one is shown", async () => {
    const { store, folder } = await openStore();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("u1", "Tell me a story", "user", null));
    await store.saveMessage(chat.id, message("a1", "Once upon a time", "assistant", "u1"));
    // Regenerate a1: a sibling under u1.
    await store.saveMessage(chat.id, message("a2", "Long ago", "assistant", "u1"));
    // Edit u1: a sibling at the root, with its own reply.
    await store.saveMessage(chat.id, message("u2", "Tell me a poem", "user", null));
    await store.saveMessage(chat.id, message("a3", "Roses are red", "assistant", "u2"));

    let shown = store.get(chat.id);
    expect(shown.messages.map((m) => m.id)).toEqual(["u2", "a3"]);
    expect(shown.versions).toEqual({ u2: ["u1", "u2"] });

    shown = await store.select(chat.id, "u1");
    // Down the most recent reply of the first version.
    expect(shown.messages.map((m) => m.id)).toEqual(["u1", "a2"]);
    expect(shown.versions).toEqual({ u1: ["u1", "u2"], a2: ["a1", "a2"] });
    shown = await store.select(chat.id, "a1");
    expect(shown.messages.map((m) => m.text)).toEqual(["Tell me a story", "Once upon a time"]);

    const { store: reopened } = await openStore(folder);
    expect(reopened.get(chat.id).messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(reopened.branchTo(chat.id, "a3").map((m) => m.id)).toEqual(["u2", "a3"]);
    expect(reopened.list()[0]?.messageCount).toBe(2);
  });

  it("reads a format-1 log (no parentId) as one line of messages, then branches from it", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const at = "2025-01-01T00:00:00.000Z";
    const v1 = (id: string, role: string, text: string) =>
      JSON.stringify({
        type: "message",
        message: { id, role, text, createdAt: at, status: "complete", modelId: null, stats: null, error: null },
        at,
      });
    await fs.writeFile(
      path.join(folder, "old.jsonl"),
      [
        JSON.stringify({ type: "created", v: 1, id: "old", title: "New chat", at }),
        v1("m1", "user", "Hi"),
        v1("m2", "assistant", "Hello"),
        JSON.stringify({ type: "titled", title: "Hi", at }),
        v1("m3", "user", "How are you?"),
        v1("m4", "assistant", "Fine"),
        "",
      ].join("\n"),
    );
    const { store, warnings } = await openStore(folder);
    expect(warnings).toEqual([]);
    const chat = store.get("old");
    expect(chat.title).toBe("Hi");
    expect(chat.messages.map((m) => [m.id, m.parentId])).toEqual([
      ["m1", null],
      ["m2", "m1"],
      ["m3", "m2"],
      ["m4", "m3"],
    ]);
    // A format-2 edit of m3 appends to the old file and becomes the shown branch.
    await store.saveMessage("old", message("m5", "How old are you?", "user", "m2"));
    const { store: reopened } = await openStore(folder);
    expect(reopened.get("old").messages.map((m) => m.id)).toEqual(["m1", "m2", "m5"]);
    expect(reopened.get("old").versions).toEqual({ m5: ["m3", "m5"] });
    expect(CHAT_FORMAT_VERSION).toBe(2);
  });

  it("keeps a line with fields it does not know, skips an unknown event, and warns about both", async () => {
    const { store, folder } = await openStore();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("u1", "kept", "user", null));
    const at = new Date().toISOString();
    const file = path.join(folder, `${chat.id}.jsonl`);
    await fs.appendFile(
      file,
      `${JSON.stringify({
        type: "message",
        message: { ...message("a1", "from the future", "assistant", "u1"), mood: "cheerful", stats: null },
        at,
        signature: "abc",
      })}\n${JSON.stringify({ type: "reaction", emoji: "👍", at })}\n`,
    );
    const { store: reopened, warnings } = await openStore(folder);
    const chat2 = reopened.get(chat.id);
    expect(chat2.messages.map((m) => m.text)).toEqual(["kept", "from the future"]);
    expect(chat2.messages[1]).not.toHaveProperty("mood");
    expect(warnings.join("\n")).toMatch(/skipped 1 unreadable line/);
    expect(warnings.join("\n")).toMatch(/ignored unknown fields on 1 line/);
  });

  it("reads a reply last saved mid-way (a checkpoint) as interrupted, keeping its text", async () => {
    const { store, folder } = await openStore();
    const chat = await store.create();
    await store.saveMessage(chat.id, message("u1", "Tell me a story", "user", null));
    await store.saveMessage(chat.id, { ...message("a1", "Once upon", "assistant", "u1"), status: "streaming" });
    const { store: reopened } = await openStore(folder);
    expect(reopened.get(chat.id).messages.at(-1)).toMatchObject({
      id: "a1",
      text: "Once upon",
      status: "failed",
      error: { code: "generation_failed" },
    });
    // A later save of the finished reply wins over the checkpoint.
    await store.saveMessage(chat.id, message("a1", "Once upon a time", "assistant", "u1"));
    const { store: again } = await openStore(folder);
    expect(again.get(chat.id).messages.at(-1)).toMatchObject({ id: "a1", text: "Once upon a time", status: "complete" });
  });

  it("warns about a log written in a newer format and still reads it", async () => {
    const folder = await tempDir("chats");
    folders.push(folder);
    const at = new Date().toISOString();
    await fs.writeFile(
      path.join(folder, "future.jsonl"),
      `${JSON.stringify({ type: "created", v: 99, id: "future", title: "From later", at })}\n`,
    );
    const { store, warnings } = await openStore(folder);
    expect(store.get("future").title).toBe("From later");
    expect(warnings.join()).toMatch(/format 99/);
  });
});

describe("the conversation list", () => {
  it("renames, searches by title and by content of any version, deletes and restores", async () => {
    const { store, folder } = await openStore();
    const first = await store.create();
    await store.saveMessage(first.id, message("u1", "Tell me about penguins", "user", null));
    await store.saveMessage(first.id, message("a1", "Penguins live in the Antarctic and eat krill.", "assistant", "u1"));
    const second = await store.create();
    await store.saveMessage(second.id, message("u2", "什么是量化？", "user", null));

    await store.rename(second.id, "Quantization notes");
    // A later first message does not rename a chat the user named.
    await store.saveMessage(second.id, message("u3", "Another question", "user", "u2"));
    expect(store.get(second.id).title).toBe("Quantization notes");
    expect(store.list().map((chat) => chat.id)).toEqual([second.id, first.id]);

    expect(store.search("KRILL").map((hit) => hit.id)).toEqual([first.id]);
    expect(store.search("krill")[0]?.snippet).toContain("krill");
    expect(store.search("quantization").map((hit) => [hit.id, hit.snippet])).toEqual([[second.id, null]]);
    expect(store.search("量化").map((hit) => hit.id)).toEqual([second.id]);
    expect(store.search("nothing like this")).toEqual([]);
    expect(store.search("  ").map((hit) => hit.id)).toEqual([second.id, first.id]);

    await store.delete(first.id);
    expect(store.list().map((chat) => chat.id)).toEqual([second.id]);
    expect(() => store.get(first.id)).toThrow(/does not exist/);
    // Deleted, not erased: a reopen does not bring it back, restore does.
    const { store: reopened } = await openStore(folder);
    expect(reopened.list().map((chat) => chat.id)).toEqual([second.id]);
    const restored = await reopened.restore(first.id);
    expect(restored.messages.map((m) => m.text)).toEqual(["Tell me about penguins", "Penguins live in the Antarctic and eat krill."]);
    await expect(reopened.restore("neverwas")).rejects.toMatchObject({ code: "not_found" });
  });

  it("keeps each conversation's settings across a reopen", async () => {
    const { store, folder } = await openStore();
    const chat = await store.create();
    expect(chat.settings).toMatchObject({ preset: "balanced", systemPrompt: "", chatTemplate: null });
    const settings = {
      systemPrompt: "You are terse.",
      preset: "precise" as const,
      overrides: { temperature: 0.5, seed: 42 },
      contextSize: 512,
      chatTemplate: "chatML",
    };
    await store.updateSettings(chat.id, settings);
    const { store: reopened } = await openStore(folder);
    expect(reopened.settings(chat.id)).toEqual(settings);
    expect(resolveSampling(settings)).toEqual({ ...SAMPLING_PRESETS.precise, temperature: 0.5, seed: 42 });
    // A test's base override sits under the conversation's own.
    expect(resolveSampling(settings, { maxTokens: 7, temperature: 1 })).toMatchObject({ maxTokens: 7, temperature: 0.5 });
  });
});

describe("chat templates and links", () => {
  it("lists exactly node-llama-cpp's specialized chat wrappers", async () => {
    const { specializedChatWrapperTypeNames } = await import("node-llama-cpp");
    expect([...KNOWN_CHAT_TEMPLATES].sort()).toEqual([...specializedChatWrapperTypeNames].sort());
  });

  it("opens only https links, and in headless mode hands the URL back", async () => {
    expect(checkExternalUrl("https://example.org/a?b=c#d")).toBe("https://example.org/a?b=c#d");
    for (const bad of [
      "http://example.org",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "quanta://x",
      "not a url",
      "https://u:p@example.org",
    ]) {
      expect(() => checkExternalUrl(bad)).toThrow();
    }
    expect(await openExternalLink("https://example.org", undefined)).toEqual({ opened: false, url: "https://example.org/" });
    const opened: string[] = [];
    expect(await openExternalLink("https://example.org/x", (url) => Promise.resolve(void opened.push(url)))).toEqual({
      opened: true,
      url: "https://example.org/x",
    });
    expect(opened).toEqual(["https://example.org/x"]);
    await expect(openExternalLink("http://example.org", (url) => Promise.resolve(void opened.push(url)))).rejects.toMatchObject({
      code: "invalid_request",
    });
    expect(opened).toHaveLength(1);
  });
});
