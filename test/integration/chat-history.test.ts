// The real core and engine with stories260K, as a person keeps a conversation's history:
// search finds words in an older version and names it; deleting one message (refused while
// that conversation is writing a reply) survives a restart; a conversation exported as JSON
// and imported again is the same conversation under a new id, and a bad file is refused by
// code, with nothing created.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CHAT_SETTINGS } from "../../electron/contract/chat-settings.js";
import { QuantaError } from "../../electron/contract/errors.js";
import { MAX_CHAT_IMPORT_BYTES } from "../../electron/contract/api.js";
import type { ChatMessage } from "../../electron/contract/types.js";
import { chatToJson } from "../../electron/contract/chat-export.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let models: string;
let home: string;
let harness: CoreHarness;

async function start(): Promise<void> {
  harness = await startCore([models], { sampling: { maxTokens: 16 }, home });
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === "stories260K.gguf");
  if (!model) throw new Error("stories260K is not in the library");
  await harness.core.api.loadModel({ modelId: model.id });
}

beforeAll(async () => {
  models = await tempDir("history-models");
  home = await tempDir("history-home");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await start();
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
  await fs.rm(home, { recursive: true, force: true });
});

async function reply(chatId: string, begin: () => Promise<{ assistantMessageId: string }>): Promise<ChatMessage> {
  const done = harness.waitFor(isDone(chatId));
  const { assistantMessageId } = await begin();
  const { message } = await done;
  expect(message.id).toBe(assistantMessageId);
  return message;
}

async function rejection(promise: Promise<unknown>): Promise<QuantaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof QuantaError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

const chatFiles = async () => (await fs.readdir(path.join(home, "chats"))).filter((name) => name.endsWith(".jsonl")).sort();

describe("a conversation's history", () => {
  let chatId: string;
  let firstUserId: string;

  it("finds a word of an older version, names that version, and shows it when chosen", async () => {
    const api = harness.core.api;
    chatId = (await api.createChat()).id;
    await api.updateChatSettings({
      chatId,
      settings: { ...DEFAULT_CHAT_SETTINGS, systemPrompt: "You tell stories.", preset: "precise", overrides: { seed: 3 } },
    });
    await reply(chatId, () => api.sendMessage({ chatId, text: "Once upon a time a walrus found a shiny shell." }));
    firstUserId = (await api.getChat({ chatId })).messages[0]?.id ?? "";
    await reply(chatId, () => api.editMessage({ chatId, messageId: firstUserId, text: "Once upon a time a cat found a ball." }));
    const shown = await api.getChat({ chatId });
    expect(shown.messages[0]?.text).toBe("Once upon a time a cat found a ball.");

    const [hit] = (await api.searchChats({ query: "WALRUS" })).filter((found) => found.id === chatId);
    expect(hit?.match).toMatchObject({ messageId: firstUserId, text: "walrus" });
    expect(hit?.match?.before).toBe("Once upon a time a ");
    expect(hit?.match?.after).toBe(" found a shiny shell.");
    const opened = await api.selectVersion({ chatId, messageId: hit?.match?.messageId ?? "" });
    expect(opened.messages[0]?.text).toBe("Once upon a time a walrus found a shiny shell.");
  });

  it("refuses to delete a message while that conversation writes a reply, by code; then deletes it with its replies, across a restart", async () => {
    const api = harness.core.api;
    await reply(chatId, async () => {
      const sent = await api.sendMessage({ chatId, text: "And then?" });
      const busy = await rejection(api.deleteMessage({ chatId, messageId: sent.userMessage.id }));
      expect(busy.code).toBe("busy");
      expect(busy.params).toMatchObject({ reason: "delete_while_replying" });
      return sent;
    });
    const before = await api.getChat({ chatId });
    expect(before.messages.map((m) => m.text).at(-2)).toBe("And then?");
    const [userMessage, answer] = before.messages.slice(-2);
    const { chat, deletedIds } = await api.deleteMessage({ chatId, messageId: userMessage?.id ?? "" });
    expect(deletedIds.sort()).toEqual([userMessage?.id, answer?.id].sort());
    expect(chat.messages).toEqual(before.messages.slice(0, -2));

    await harness.close();
    await start();
    const after = await harness.core.api.getChat({ chatId });
    expect(after.messages).toEqual(before.messages.slice(0, -2));
    const all = await harness.core.api.listAllMessages({ chatId });
    expect(all.map((m) => m.id)).not.toContain(userMessage?.id);
    expect(all.map((m) => m.id)).not.toContain(answer?.id);
    const log = await fs.readFile(path.join(home, "chats", `${chatId}.jsonl`), "utf8");
    expect(log).not.toContain("And then?");
  });

  it("imports its own JSON export as a new conversation: the same messages, versions, settings and dates", async () => {
    const api = harness.core.api;
    await api.renameChat({ chatId, title: "Walrus story" });
    const original = await api.getChat({ chatId });
    const allMessages = await api.listAllMessages({ chatId });
    const exported = chatToJson(original, allMessages);

    const { chat: imported, messageCount } = await api.importChat({ text: exported });
    expect(imported.id).not.toBe(chatId);
    expect(messageCount).toBe(allMessages.length);
    expect({ ...imported, id: chatId }).toEqual(original);
    expect(await api.listAllMessages({ chatId: imported.id })).toEqual(allMessages);
    // Twice is two conversations; the original is untouched.
    const again = await api.importChat({ text: exported });
    expect(new Set([chatId, imported.id, again.chat.id]).size).toBe(3);
    expect(await api.getChat({ chatId })).toEqual(original);

    // As it was after a restart, and exported again it is the same file but for the date.
    await harness.close();
    await start();
    const reread = await harness.core.api.getChat({ chatId: imported.id });
    expect({ ...reread, id: chatId }).toEqual(original);
    const exportedAt = "2030-01-01T00:00:00.000Z";
    expect(chatToJson({ ...reread, id: chatId }, await harness.core.api.listAllMessages({ chatId: imported.id }), exportedAt)).toBe(
      chatToJson(original, allMessages, exportedAt),
    );
  });

  it("refuses a bad file by code and reason, and creates nothing", async () => {
    const api = harness.core.api;
    const exported = JSON.parse(chatToJson(await api.getChat({ chatId }), await api.listAllMessages({ chatId }))) as Record<
      string,
      unknown
    >;
    const before = await chatFiles();
    const listed = (await api.listChats()).length;
    const cases: [string, string, Record<string, unknown>][] = [
      ["not JSON", "not_json", {}],
      [JSON.stringify({ hello: "world" }), "wrong_shape", { where: "format" }],
      [JSON.stringify({ ...exported, version: 7 }), "wrong_version", { version: "7" }],
      [
        JSON.stringify({ ...exported, chat: { ...(exported.chat as object), messages: "none" } }),
        "wrong_shape",
        { where: "chat.messages" },
      ],
      [
        JSON.stringify({ ...exported, allMessages: [{ ...(exported.allMessages as ChatMessage[])[1], parentId: "nowhere" }] }),
        "wrong_shape",
        {},
      ],
      // Under the size the contract lets through in characters, over it in bytes.
      [`"${"量".repeat(Math.floor(MAX_CHAT_IMPORT_BYTES / 3) + 1)}"`, "too_large", { maxBytes: MAX_CHAT_IMPORT_BYTES }],
    ];
    for (const [text, reason, params] of cases) {
      const refused = await rejection(api.importChat({ text }));
      expect(refused.code, text.slice(0, 40)).toBe("chat_import_invalid");
      expect(refused.params).toMatchObject({ reason, ...params });
    }
    expect(await chatFiles()).toEqual(before);
    expect(await api.listChats()).toHaveLength(listed);
  });
});
