// The JSON file a conversation is exported as (the renderer makes and downloads it) and
// imported from (the core validates it: core/chats/chat-import.ts). Pure: both ends use it.

import type { Chat, ChatMessage } from "./types.js";

export const CHAT_EXPORT_FORMAT = "quanta-chat";
/** The version written now; the core reads the versions chat-import.ts lists. */
export const CHAT_EXPORT_VERSION = 1;

export interface ChatExport {
  format: typeof CHAT_EXPORT_FORMAT;
  version: typeof CHAT_EXPORT_VERSION;
  exportedAt: string;
  /** The branch on show, with the conversation's title, dates and settings. */
  chat: Chat;
  /** Every message of every version (edits, regenerated replies), in the order written. */
  allMessages: ChatMessage[];
}

export function chatToJson(chat: Chat, allMessages: ChatMessage[], exportedAt = new Date().toISOString()): string {
  const document: ChatExport = { format: CHAT_EXPORT_FORMAT, version: CHAT_EXPORT_VERSION, exportedAt, chat, allMessages };
  return `${JSON.stringify(document, null, 2)}\n`;
}
