// The import's checks on their own: a file exported by Quanta reads back whole; one whose
// messages do not form the tree it claims (an id twice, a parent missing or written after its
// child, a branch on show that skips a message), or with settings out of range, is refused as
// wrong_shape, saying where.

import { describe, expect, it } from "vitest";
import { MAX_CHAT_IMPORT_BYTES } from "../../electron/contract/api.js";
import { DEFAULT_CHAT_SETTINGS } from "../../electron/contract/chat-settings.js";
import { chatToJson } from "../../electron/contract/chat-export.js";
import { QuantaError } from "../../electron/contract/errors.js";
import type { Chat, ChatMessage } from "../../electron/contract/types.js";
import { parseChatImport } from "../../electron/core/chats/chat-import.js";

const AT = "2026-01-02T03:04:05.000Z";

function message(id: string, role: ChatMessage["role"], parentId: string | null): ChatMessage {
  return { id, role, text: `text of ${id}`, createdAt: AT, status: "complete", modelId: null, stats: null, error: null, parentId };
}

const all = [message("u1", "user", null), message("a1", "assistant", "u1"), message("a2", "assistant", "u1")];
const chat: Chat = {
  id: "c1",
  title: "Penguins 企鹅",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: AT,
  messages: [all[0]!, all[1]!],
  settings: { ...DEFAULT_CHAT_SETTINGS, systemPrompt: "Be brief." },
  versions: { a1: ["a1", "a2"] },
};

function refusal(text: string): QuantaError {
  try {
    parseChatImport(text);
  } catch (error) {
    if (error instanceof QuantaError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("reading a conversation file", () => {
  it("reads an export whole: every version, the branch on show, settings, title and dates", () => {
    const imported = parseChatImport(chatToJson(chat, all));
    expect(imported).toEqual({
      title: "Penguins 企鹅",
      createdAt: chat.createdAt,
      updatedAt: AT,
      settings: chat.settings,
      messages: all,
      leafId: "a1",
    });
  });

  it("refuses messages that do not form the tree they claim, saying where", () => {
    const cases: [ChatMessage[], Chat["messages"], string][] = [
      [[...all, message("a1", "assistant", "u1")], chat.messages, "allMessages.3.id"],
      [[message("a1", "assistant", "u1"), message("u1", "user", null)], [], "allMessages.0.parentId"],
      [[...all, message("u2", "user", "gone")], chat.messages, "allMessages.3.parentId"],
      [all, [all[0]!, all[1]!, message("x", "user", "a1")], "chat.messages.2.id"],
      [all, [all[1]!], "chat.messages.0.parentId"],
    ];
    for (const [messages, shown, where] of cases) {
      const refused = refusal(chatToJson({ ...chat, messages: shown }, messages));
      expect(refused.code).toBe("chat_import_invalid");
      expect(refused.params).toMatchObject({ reason: "wrong_shape", where });
    }
  });

  it("refuses out-of-range settings, ids the contract would refuse, bad dates, and too much", () => {
    const bad = [
      chatToJson({ ...chat, settings: { ...chat.settings, contextSize: 10 } }, all),
      chatToJson(chat, [...all, message("../etc", "user", null)]),
      chatToJson({ ...chat, createdAt: "yesterday" }, all),
      chatToJson({ ...chat, title: "   " }, all),
    ];
    for (const text of bad) expect(refusal(text).params).toMatchObject({ reason: "wrong_shape" });
    const large = chatToJson({ ...chat, messages: [{ ...all[0]!, text: "x".repeat(MAX_CHAT_IMPORT_BYTES) }] }, all);
    expect(refusal(large).params).toMatchObject({ reason: "too_large", maxBytes: MAX_CHAT_IMPORT_BYTES });
    expect(refusal("[1, 2").params).toMatchObject({ reason: "not_json" });
    expect(refusal("null").params).toMatchObject({ reason: "wrong_shape", where: "format" });
  });
});
