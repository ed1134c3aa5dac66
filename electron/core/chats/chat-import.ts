// A conversation file to import (the app's JSON export, contract/chat-export.ts)
// checked at the boundary: its size, that it is JSON, its format and version, its shape
// (zod), and that its messages form one tree. Every refusal is `chat_import_invalid` with a
// reason the renderer words (too_large, not_json, wrong_version, wrong_shape). Pure: nothing
// is written here; the store saves what this returns as a new conversation.

import { z } from "zod";
import { chatSettingsSchema, MAX_CHAT_IMPORT_BYTES, MAX_MESSAGE_CHARS, MAX_TITLE_CHARS } from "../../contract/api.js";
import { CHAT_EXPORT_FORMAT, CHAT_EXPORT_VERSION } from "../../contract/chat-export.js";
import { QuantaError } from "../../contract/errors.js";
import type { ChatMessage, ChatSettings } from "../../contract/types.js";
import { messageSchema } from "./chat-log.js";

/** The export versions this Quanta reads. */
export const CHAT_EXPORT_VERSIONS: readonly number[] = [CHAT_EXPORT_VERSION];

export interface ImportedChat {
  title: string;
  createdAt: string;
  updatedAt: string;
  settings: ChatSettings;
  /** Every message of every version, parents before their children. */
  messages: ChatMessage[];
  /** The last message of the branch that was on show. */
  leafId: string | null;
}

const date = z.string().refine((text) => !Number.isNaN(Date.parse(text)), "not a date");

const importedMessage = messageSchema.extend({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/),
  text: z.string().max(MAX_MESSAGE_CHARS),
  createdAt: date,
});

const exportSchema = z.object({
  format: z.literal(CHAT_EXPORT_FORMAT),
  version: z.number(),
  exportedAt: date.optional(),
  chat: z.object({
    title: z.string().trim().min(1).max(MAX_TITLE_CHARS),
    createdAt: date,
    updatedAt: date,
    messages: z.array(importedMessage),
    settings: chatSettingsSchema,
    versions: z.record(z.string(), z.array(z.string())).optional(),
  }),
  allMessages: z.array(importedMessage).optional(),
});

function refuse(reason: string, message: string, params: Record<string, string | number> = {}): QuantaError {
  return new QuantaError("chat_import_invalid", message, { reason, ...params });
}

function wrongShape(where: string, what: string): QuantaError {
  return refuse(
    "wrong_shape",
    `This is not a conversation exported by Quanta: ${where ? `${where}: ` : ""}${what}. Nothing was imported.`,
    {
      where: where || "(file)",
    },
  );
}

/** The conversation in `text`, or `chat_import_invalid` saying why not. */
export function parseChatImport(text: string): ImportedChat {
  const sizeBytes = Buffer.byteLength(text);
  if (sizeBytes > MAX_CHAT_IMPORT_BYTES) {
    throw refuse(
      "too_large",
      `The file is ${sizeBytes} bytes; a conversation to import is at most ${MAX_CHAT_IMPORT_BYTES}. Nothing was imported.`,
      {
        sizeBytes,
        maxBytes: MAX_CHAT_IMPORT_BYTES,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refuse("not_json", "The file is not JSON, so it is not a conversation exported by Quanta. Nothing was imported.");
  }
  // Format and version first: a newer export may differ in shape, and should be called newer.
  const head = typeof value === "object" && value !== null ? (value as { format?: unknown; version?: unknown }) : {};
  if (head.format !== CHAT_EXPORT_FORMAT) throw wrongShape("format", `expected "${CHAT_EXPORT_FORMAT}"`);
  if (typeof head.version !== "number" || !CHAT_EXPORT_VERSIONS.includes(head.version)) {
    const version = typeof head.version === "number" || typeof head.version === "string" ? String(head.version) : "?";
    throw refuse(
      "wrong_version",
      `The file is in export version ${version}; this Quanta reads version ${CHAT_EXPORT_VERSIONS.join(", ")}. Nothing was imported.`,
      { version, supported: CHAT_EXPORT_VERSIONS.join(", ") },
    );
  }
  const parsed = exportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw wrongShape(issue?.path.join(".") ?? "", issue?.message ?? "unexpected content");
  }
  const { chat, allMessages } = parsed.data;
  const messages: ChatMessage[] = allMessages ?? chat.messages;
  checkTree(messages, chat.messages);
  return {
    title: chat.title.trim(),
    createdAt: chat.createdAt,
    updatedAt: chat.updatedAt,
    settings: chat.settings,
    messages,
    leafId: chat.messages.at(-1)?.id ?? null,
  };
}

/**
 * Unique ids, each parent written before its children (so reading the log rebuilds the same
 * tree), and the branch on show made of these messages, each following the one before it.
 */
function checkTree(messages: readonly ChatMessage[], shown: readonly ChatMessage[]): void {
  const seen = new Map<string, ChatMessage>();
  messages.forEach((message, index) => {
    if (seen.has(message.id)) throw wrongShape(`allMessages.${index}.id`, "the same id twice");
    const parentId = message.parentId ?? null;
    if (message.parentId === undefined && index > 0) throw wrongShape(`allMessages.${index}.parentId`, "missing");
    if (parentId !== null && !seen.has(parentId)) throw wrongShape(`allMessages.${index}.parentId`, "no earlier message has this id");
    seen.set(message.id, message);
  });
  shown.forEach((message, index) => {
    const kept = seen.get(message.id);
    if (!kept) throw wrongShape(`chat.messages.${index}.id`, "not among allMessages");
    const expected = index === 0 ? null : (shown[index - 1]?.id ?? null);
    if ((kept.parentId ?? null) !== expected) throw wrongShape(`chat.messages.${index}.parentId`, "does not follow the message before it");
  });
}
